// `npm run bench`: the libuv pool is sized like the `tessera` bin does, before anything uses it.
process.env.UV_THREADPOOL_SIZE ??= "6";
const { benchExchangeUnderLoginStorm } = await import("./exchange-under-login-storm.js");
await benchExchangeUnderLoginStorm();
