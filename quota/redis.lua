-- RedisStore's script: every operation on one organization, each run
-- atomically, on Redis's clock. It follows MemoryStore step by step.
--
-- KEYS, all of one organization and so of one hash tag (one cluster slot):
--   1 state    hash: epoch (real ms of first use), seq (arrival and lease
--              counter), cd (cooldown until), r and t (requests and tokens
--              of the minute buckets), d (tokens of the day buckets)
--   2 queue    zset: ticket -> arrival seq (the head is first)
--   3 alive    zset: ticket -> alive until (a zset, not a hash, so that dead
--              tickets are found by range instead of by a scan of the queue)
--   4 leases   zset: lease -> expiry
--   5 minutes  zset: minute bucket start -> start
--   6 mcounts  hash: 'r'..start -> requests, 't'..start -> tokens
--   7 days     zset: day bucket start -> start
--   8 dcounts  hash: start -> tokens
-- The totals in state are kept with the buckets so that an admission costs
-- no scan of the day's 1,440 buckets.
--
-- ARGV: 1 operation, 2 clock scale, 3 minute bucket width, 4 how long
-- after its start a minute bucket stops counting, 5 and 6 the same of day
-- buckets, 7 poll wait, 8 idle margin (real ms), then the operation's own.
-- Times are in ms of the store's (scaled) clock, except the idle margin.

-- Scripts that read TIME before writing need effects replication, the
-- default from Redis 5 on and the only mode from 7; older servers ask.
if redis.replicate_commands then redis.replicate_commands() end

local STATE, QUEUE, ALIVE, LEASES = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local MINUTES, MCOUNTS, DAYS, DCOUNTS = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local op = ARGV[1]
local scale = tonumber(ARGV[2])
local MINUTE_BUCKET, MINUTE_SPAN = tonumber(ARGV[3]), tonumber(ARGV[4])
local DAY_BUCKET, DAY_SPAN = tonumber(ARGV[5]), tonumber(ARGV[6])
local POLL, MARGIN = tonumber(ARGV[7]), tonumber(ARGV[8])

-- int spells a number as Redis members and fields must match: digits,
-- never an exponent.
local function int(n) return string.format('%d', n) end

local function num(v) return tonumber(v) or 0 end

-- clock returns the store's time and the organization's state, read at
-- once: the time is Redis's, scaled around the organization's epoch so
-- that every process agrees on it. Without create, an organization with
-- no epoch (so no state) gives nil.
local function clock(create)
  local t = redis.call('TIME')
  local real_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local v = redis.call('HMGET', STATE, 'epoch', 'seq', 'cd', 'r', 't', 'd')
  local st = {epoch = tonumber(v[1]), seq = num(v[2]), cd = num(v[3]), r = num(v[4]), t = num(v[5]), d = num(v[6])}
  if not st.epoch then
    if not create then return nil end
    st.epoch = math.floor(real_us / 1000)
    redis.call('HSET', STATE, 'epoch', int(st.epoch))
  end
  return st.epoch + math.floor((real_us - st.epoch * 1000) * scale / 1000), st
end

-- expire drops what no longer counts at now: buckets that stopped
-- counting (taken off the totals, in st too), expired leases and dead
-- tickets.
local function expire(now, st)
  local last = now - MINUTE_SPAN
  local dead = redis.call('ZRANGEBYSCORE', MINUTES, '-inf', last)
  if #dead > 0 then
    local fields = {}
    for _, b in ipairs(dead) do
      fields[#fields + 1] = 'r' .. b
      fields[#fields + 1] = 't' .. b
    end
    local v = redis.call('HMGET', MCOUNTS, unpack(fields))
    for i = 1, #v, 2 do st.r, st.t = st.r - num(v[i]), st.t - num(v[i + 1]) end
    redis.call('HDEL', MCOUNTS, unpack(fields))
    redis.call('ZREMRANGEBYSCORE', MINUTES, '-inf', last)
    redis.call('HSET', STATE, 'r', int(st.r), 't', int(st.t))
  end
  -- No bucket left means nothing counts, whatever the totals say (a key
  -- lost to eviction cannot leave them off for good).
  if (st.r ~= 0 or st.t ~= 0) and redis.call('EXISTS', MINUTES) == 0 then
    st.r, st.t = 0, 0
    redis.call('HDEL', STATE, 'r', 't')
    redis.call('DEL', MCOUNTS)
  end

  last = now - DAY_SPAN
  dead = redis.call('ZRANGEBYSCORE', DAYS, '-inf', last)
  if #dead > 0 then
    local v = redis.call('HMGET', DCOUNTS, unpack(dead))
    for i = 1, #v do st.d = st.d - num(v[i]) end
    redis.call('HDEL', DCOUNTS, unpack(dead))
    redis.call('ZREMRANGEBYSCORE', DAYS, '-inf', last)
    redis.call('HSET', STATE, 'd', int(st.d))
  end
  if st.d ~= 0 and redis.call('EXISTS', DAYS) == 0 then
    st.d = 0
    redis.call('HDEL', STATE, 'd')
    redis.call('DEL', DCOUNTS)
  end

  redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', now)
  dead = redis.call('ZRANGEBYSCORE', ALIVE, '-inf', now)
  if #dead > 0 then
    -- In slices: unpack has a limit, and a crowd of waiters may die at once.
    for i = 1, #dead, 1000 do
      redis.call('ZREM', QUEUE, unpack(dead, i, math.min(i + 999, #dead)))
    end
    redis.call('ZREMRANGEBYSCORE', ALIVE, '-inf', now)
  end
end

-- touch sets every key to expire together once nothing in them can count
-- any more (the day's buckets, the last lease, the cooldown cd, a ticket
-- of life extra), so that an abandoned organization leaves nothing
-- behind; the epoch goes with the rest, so the clock restarts only on
-- empty state.
local function touch(now, cd, extra)
  local need = math.max(DAY_SPAN, extra, cd - now)
  local last = redis.call('ZRANGE', LEASES, -1, -1, 'WITHSCORES')
  if last[2] then need = math.max(need, tonumber(last[2]) - now) end
  local ttl = int(math.ceil(need / scale) + MARGIN)
  for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ttl) end
end

-- wait_for returns how long until the oldest buckets of a window have
-- freed need units, or -1 if they never will.
local function wait_for(zkey, hkey, prefix, span, now, need)
  local starts = redis.call('ZRANGE', zkey, 0, -1)
  if #starts == 0 then return -1 end
  local fields = {}
  for i, b in ipairs(starts) do fields[i] = prefix .. b end
  local v = redis.call('HMGET', hkey, unpack(fields))
  local freed = 0
  for i, b in ipairs(starts) do
    freed = freed + num(v[i])
    if freed >= need then return tonumber(b) + span - now end
  end
  return -1
end

-- admit: ARGV 9 ticket, 10 tokens, 11 lease TTL, 12 ticket TTL,
-- 13 concurrency, 14 RPM, 15 TPM, 16 TPD (0: no limit). Returns
-- {admitted (0/1), lease, wait, limit}.
local function admit(now, st)
  local ticket, tokens = ARGV[9], tonumber(ARGV[10])
  local lease_ttl, ticket_ttl = tonumber(ARGV[11]), tonumber(ARGV[12])
  local conc, rpm, tpm, tpd = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])

  -- Join or stay in the queue; only the head may be admitted. A ticket
  -- that would join an empty queue is its head: it joins only if it
  -- must wait, which spares the common admission four writes.
  local queued = redis.call('ZSCORE', QUEUE, ticket)
  local head
  if queued then
    head = redis.call('ZRANGE', QUEUE, 0, 0)[1] == ticket
  else
    head = redis.call('EXISTS', QUEUE) == 0
  end
  local function wait(ms, limit)
    if not queued then redis.call('ZADD', QUEUE, redis.call('HINCRBY', STATE, 'seq', 1), ticket) end
    redis.call('ZADD', ALIVE, int(now + ticket_ttl), ticket)
    return {0, '', ms, limit}
  end
  if not head then
    return wait(POLL, 'queue')
  end
  if st.cd > now then
    return wait(st.cd - now, 'cooldown')
  end
  if conc > 0 and redis.call('ZCARD', LEASES) >= conc then
    -- A slot comes back at a release (not foreseeable) or when the first
    -- lease expires.
    local first = tonumber(redis.call('ZRANGE', LEASES, 0, 0, 'WITHSCORES')[2])
    return wait(math.min(POLL, first - now), 'concurrency')
  end
  if rpm > 0 and st.r + 1 > rpm then
    return wait(wait_for(MINUTES, MCOUNTS, 'r', MINUTE_SPAN, now, st.r + 1 - rpm), 'rpm')
  end
  if tpm > 0 and st.t + tokens > tpm then
    return wait(wait_for(MINUTES, MCOUNTS, 't', MINUTE_SPAN, now, st.t + tokens - tpm), 'tpm')
  end
  if tpd > 0 and st.d + tokens > tpd then
    return wait(wait_for(DAYS, DCOUNTS, '', DAY_SPAN, now, st.d + tokens - tpd), 'tpd')
  end

  if queued then
    redis.call('ZREM', QUEUE, ticket)
    redis.call('ZREM', ALIVE, ticket)
  end
  local mb = int(now - now % MINUTE_BUCKET)
  redis.call('ZADD', MINUTES, mb, mb)
  redis.call('HINCRBY', MCOUNTS, 'r' .. mb, 1)
  redis.call('HINCRBY', MCOUNTS, 't' .. mb, int(tokens))
  local db = int(now - now % DAY_BUCKET)
  redis.call('ZADD', DAYS, db, db)
  redis.call('HINCRBY', DCOUNTS, db, int(tokens))
  st.seq = st.seq + 1
  redis.call('HSET', STATE, 'r', int(st.r + 1), 't', int(st.t + tokens), 'd', int(st.d + tokens), 'seq', int(st.seq))
  local lease = ticket
  redis.call('ZADD', LEASES, int(now + lease_ttl), lease)
  return {1, lease, 0, ''}
end

if op == 'admit' then
  local now, st = clock(true)
  expire(now, st)
  local res = admit(now, st)
  touch(now, st.cd, tonumber(ARGV[12]))
  return res

elseif op == 'leave' then -- ARGV 9 ticket
  redis.call('ZREM', QUEUE, ARGV[9])
  redis.call('ZREM', ALIVE, ARGV[9])
  return 0

elseif op == 'renew' then -- ARGV 9 lease, 10 TTL; 1 if renewed
  local now, st = clock(false)
  if not now then return 0 end
  local exp = tonumber(redis.call('ZSCORE', LEASES, ARGV[9]))
  if not exp or exp <= now then
    redis.call('ZREM', LEASES, ARGV[9])
    return 0
  end
  redis.call('ZADD', LEASES, int(now + tonumber(ARGV[10])), ARGV[9])
  touch(now, st.cd, 0)
  return 1

elseif op == 'release' then -- ARGV 9 lease
  redis.call('ZREM', LEASES, ARGV[9])
  return 0

elseif op == 'cooldown' then -- ARGV 9 duration
  local now, st = clock(true)
  st.cd = math.max(st.cd, now + tonumber(ARGV[9]))
  redis.call('HSET', STATE, 'cd', int(st.cd))
  touch(now, st.cd, 0)
  return 0

-- Carry is three steps, since two organizations are two Cluster slots:
-- export from one, import into the other, then drop the leases moved.
-- Should a step fail, what was carried counts twice, never nowhere.

elseif op == 'export' then
  -- {epoch, {start, requests, tokens, ...} of the minute buckets,
  -- {start, tokens, ...} of the day's, {lease, expiry, ...}}
  local now, st = clock(false)
  if not now then return {0, {}, {}, {}} end
  expire(now, st)
  local minutes, days = {}, {}
  local starts = redis.call('ZRANGE', MINUTES, 0, -1)
  for _, b in ipairs(starts) do
    local v = redis.call('HMGET', MCOUNTS, 'r' .. b, 't' .. b)
    minutes[#minutes + 1] = tonumber(b)
    minutes[#minutes + 1] = num(v[1])
    minutes[#minutes + 1] = num(v[2])
  end
  starts = redis.call('ZRANGE', DAYS, 0, -1)
  if #starts > 0 then
    local v = redis.call('HMGET', DCOUNTS, unpack(starts))
    for i, b in ipairs(starts) do
      days[#days + 1] = tonumber(b)
      days[#days + 1] = num(v[i])
    end
  end
  local leases = redis.call('ZRANGE', LEASES, 0, -1, 'WITHSCORES')
  for i = 2, #leases, 2 do leases[i] = tonumber(leases[i]) end
  return {st.epoch, minutes, days, leases}

elseif op == 'import' then
  -- ARGV 9 the exporter's epoch, then each list of export, after its
  -- length in items.
  local now, st = clock(true)
  -- The two clocks differ by a constant when their epochs do (and the
  -- scale is not 1); rounding up, what is carried counts no shorter.
  local shift = math.ceil((st.epoch - tonumber(ARGV[9])) * (1 - scale))
  local function up(x, w) return x + (w - x % w) % w end
  local i = 10
  local n = tonumber(ARGV[i])
  for j = i + 1, i + 3 * n, 3 do
    local b = int(up(tonumber(ARGV[j]) + shift, MINUTE_BUCKET))
    redis.call('ZADD', MINUTES, b, b)
    redis.call('HINCRBY', MCOUNTS, 'r' .. b, ARGV[j + 1])
    redis.call('HINCRBY', MCOUNTS, 't' .. b, ARGV[j + 2])
    st.r, st.t = st.r + tonumber(ARGV[j + 1]), st.t + tonumber(ARGV[j + 2])
  end
  i = i + 3 * n + 1
  n = tonumber(ARGV[i])
  for j = i + 1, i + 2 * n, 2 do
    local b = int(up(tonumber(ARGV[j]) + shift, DAY_BUCKET))
    redis.call('ZADD', DAYS, b, b)
    redis.call('HINCRBY', DCOUNTS, b, ARGV[j + 1])
    st.d = st.d + tonumber(ARGV[j + 1])
  end
  redis.call('HSET', STATE, 'r', int(st.r), 't', int(st.t), 'd', int(st.d))
  i = i + 2 * n + 1
  n = tonumber(ARGV[i])
  for j = i + 1, i + 2 * n, 2 do
    redis.call('ZADD', LEASES, int(tonumber(ARGV[j + 1]) + shift), ARGV[j])
  end
  touch(now, st.cd, 0)
  return 0

elseif op == 'drop' then -- ARGV 9... the leases
  for j = 9, #ARGV do redis.call('ZREM', LEASES, ARGV[j]) end
  return 0

elseif op == 'usage' then
  -- {concurrency, requests, tokens (minute), tokens (day), waiting, cooldown}
  local now, st = clock(false)
  if not now then return {0, 0, 0, 0, 0, 0} end
  expire(now, st)
  return {redis.call('ZCARD', LEASES), st.r, st.t, st.d, redis.call('ZCARD', QUEUE), math.max(0, st.cd - now)}
end
return redis.error_reply('quota: unknown operation ' .. tostring(op))
