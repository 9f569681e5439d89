// Package quota holds a Kimi organization to its rate limits before the
// platform has to: concurrency, requests per minute (RPM), tokens per
// minute (TPM) and tokens per day (TPD), all four at once, shared by every
// key, process and machine that uses the same Store.
//
// Kimi limits each organization, not each key, and charges TPM and TPD
// at admission: the prompt plus max_tokens (the model's default when the
// request sets none), whatever is then generated. A Limiter charges the
// same, before the request is sent: Acquire waits until the request fits
// every limit and returns a Permit, which holds a concurrency slot until
// Release (a stream keeps it until it ends).
//
// The windows are sliding: "at most L in any 60 s" (24 h for TPD), which
// is safe whatever algorithm the server uses, where a token bucket with a
// burst of L is not. Usage is kept in buckets (1 s for the minute windows,
// 1 min for the day) and a bucket counts until its end plus the window
// plus one more bucket, so the count errs high, never low, even against
// a server that counts in buckets itself: a request may wait up to two
// buckets longer than an exact log would make it (2 s in a minute), never
// less.
//
// Waiting is first come, first served across everyone using the Store: a
// large request at the head of the queue is not overtaken by small ones
// behind it. A request that can never fit (more tokens than the TPM or
// TPD) fails at once with ErrTooLarge. A 429 that still arrives (the
// estimate was low, or other software uses the account) becomes a
// Cooldown that every user of the Store honours.
//
// Stores: MemoryStore, in one process; RedisStore (package quota's
// redis.go), shared across processes and machines through one atomic Lua
// script per admission, on Redis's clock.
package quota
