// `npm run bench`: the libuv pool is sized like the `tessera` bin does, before anything uses it.
process.env.UV_THREADPOOL_SIZE ??= "6";
const { benchVerify } = await import("./verify.js");
const { benchExchangeUnderLoginStorm } = await import("./exchange-under-login-storm.js");

console.log(`local JWT verification, verifications/s (median of rounds; ratio = ours / bare jose)`);
await benchVerify();
await benchExchangeUnderLoginStorm();
