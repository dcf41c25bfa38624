// `npm run bench` sets UV_THREADPOOL_SIZE=6 in the environment, as the `tessera` bin does for the server.
const { benchVerify } = await import("./verify.js");
const { benchExchangeUnderLoginStorm } = await import("./exchange-under-login-storm.js");

console.log(`local JWT verification, verifications/s (median of rounds; ratio = ours / bare jose)`);
await benchVerify();
await benchExchangeUnderLoginStorm();
