"""The index's operations in Redis, each one Lua script so it is atomic like a transaction.

They follow ``sqlite_store`` rule for rule (read that module's docstring first). Keys,
all under a prefix ``P`` (``pyregistry:index:``):

* ``P meta`` hash: ``clock`` (moves at every write's start and end), ``ready``,
  ``builder``, ``heartbeat``, ``watermark``;
* ``P repos`` sorted set of the keys (``path_order`` names) of repositories known present,
  lexically ordered for ``_catalog``; ``P pending`` the names not (yet) known present;
  ``P all`` every name with a row;
* ``P repo:<name>`` hash: ``present``, ``dirty``, ``generation``, ``key``;
* ``P tags:<name>`` sorted set of tag names; ``P tag:<name>`` hash tag -> ``digest\\tmedia
  type\\tpushed at``; ``P manifests:<name>`` hash digest -> media type;
* sizes (``sqlite_sizes`` explains them): ``P repo:<name>`` field ``size``; ``P
  mblobs:<name>`` hash manifest -> its blobs as ``digest size digest size ...`` (itself
  first); ``P brefs:<name>`` hash blob -> how many of the manifests reference it, ``P
  bsize:<name>`` hash blob -> its size;
* ``P intents:<name>`` hash token -> start time of the writes in flight.

``meta`` ``schema`` is set by a build: an index an older pyregistry built is not ready.
"""

from __future__ import annotations

from pyregistry.index.backend import SCHEMA_VERSION

PREAMBLE = (
    f"local SCHEMA = '{SCHEMA_VERSION}'\n"
    + r"""
local P = ARGV[1]
local function tick() return redis.call('HINCRBY', P .. 'meta', 'clock', 1) end
local function is_ready()
  local meta = redis.call('HMGET', P .. 'meta', 'ready', 'schema')
  return meta[1] == '1' and meta[2] == SCHEMA
end
local function rkey(name) return P .. 'repo:' .. name end
local function ensure(name, key, gen)
  if redis.call('EXISTS', rkey(name)) == 0 then
    -- unbuilt, a new row knows nothing (a build may have passed it): in doubt
    local dirty = '1'
    if is_ready() then dirty = '0' end
    redis.call('HSET', rkey(name), 'present', '0', 'dirty', dirty, 'key', key)
    redis.call('SADD', P .. 'pending', name)
    redis.call('SADD', P .. 'all', name)
  end
  redis.call('HSET', rkey(name), 'generation', gen)
end
local function set_present(name, key)
  redis.call('HSET', rkey(name), 'present', '1')
  redis.call('ZADD', P .. 'repos', 0, key)
  redis.call('SREM', P .. 'pending', name)
end
local function forget(name)
  redis.call('DEL', P .. 'tags:' .. name, P .. 'tag:' .. name, P .. 'manifests:' .. name,
    P .. 'mblobs:' .. name, P .. 'brefs:' .. name, P .. 'bsize:' .. name)
end
local function drop(name, key)
  forget(name)
  redis.call('DEL', rkey(name))
  redis.call('ZREM', P .. 'repos', key)
  redis.call('SREM', P .. 'pending', name)
  redis.call('SREM', P .. 'all', name)
end
local function add_size(name, bytes)
  if bytes ~= 0 then
    redis.call('HINCRBY', rkey(name), 'size', string.format('%.0f', bytes))
  end
end
-- Count a manifest's blobs ('digest size ...') in; bytes the repository grew by.
local function add_manifest(name, manifest, blobs)
  local listed = P .. 'mblobs:' .. name
  if redis.call('HEXISTS', listed, manifest) == 1 then return 0 end
  local seen, kept, grown = {}, {}, 0
  for blob, size in string.gmatch(blobs, '(%S+) (%d+)') do
    if not seen[blob] then
      seen[blob] = true
      kept[#kept + 1] = blob .. ' ' .. size
      if redis.call('HINCRBY', P .. 'brefs:' .. name, blob, 1) == 1 then
        redis.call('HSET', P .. 'bsize:' .. name, blob, size)
        grown = grown + tonumber(size)
      end
    end
  end
  redis.call('HSET', listed, manifest, table.concat(kept, ' '))
  return grown
end
-- Count a manifest's blobs out; bytes the repository shrank by (negative).
local function remove_manifest(name, manifest)
  local listed = P .. 'mblobs:' .. name
  local blobs = redis.call('HGET', listed, manifest)
  if not blobs then return 0 end
  redis.call('HDEL', listed, manifest)
  local shrunk = 0
  for blob in string.gmatch(blobs, '(%S+) %d+') do
    if redis.call('HINCRBY', P .. 'brefs:' .. name, blob, -1) <= 0 then
      shrunk = shrunk + tonumber(redis.call('HGET', P .. 'bsize:' .. name, blob) or '0')
      redis.call('HDEL', P .. 'brefs:' .. name, blob)
      redis.call('HDEL', P .. 'bsize:' .. name, blob)
    end
  end
  return -shrunk
end
"""
)

# ARGV: P, name, n (-1: all), lex minimum, stale_before
READ_TAGS = r"""
local name = ARGV[2]
if not is_ready() then return {'unready', '0', {}} end
local starts = redis.call('HVALS', P .. 'intents:' .. name)
if #starts > 0 then
  local newest = 0
  for _, v in ipairs(starts) do
    if tonumber(v) > newest then newest = tonumber(v) end
  end
  if newest >= tonumber(ARGV[5]) then return {'busy', '0', {}} end
  return {'stale', '0', {}}
end
local row = redis.call('HMGET', rkey(name), 'present', 'dirty')
if row[2] == '1' then return {'stale', '0', {}} end
if row[1] ~= '1' then return {'unknown', '0', {}} end
local tags_key = P .. 'tags:' .. name
local total = redis.call('ZCARD', tags_key)
local n = tonumber(ARGV[3])
if n == 0 then return {'ok', tostring(total), {}} end
local tags
if n < 0 then
  tags = redis.call('ZRANGEBYLEX', tags_key, ARGV[4], '+')
else
  tags = redis.call('ZRANGEBYLEX', tags_key, ARGV[4], '+', 'LIMIT', 0, n)
end
return {'ok', tostring(total), tags}
"""

# ARGV: P, lex minimum, n (-1: all)
READ_CATALOG = r"""
if not is_ready() then return false end
local keys
if tonumber(ARGV[3]) < 0 then
  keys = redis.call('ZRANGEBYLEX', P .. 'repos', ARGV[2], '+')
else
  keys = redis.call('ZRANGEBYLEX', P .. 'repos', ARGV[2], '+', 'LIMIT', 0, tonumber(ARGV[3]))
end
return {keys, redis.call('SMEMBERS', P .. 'pending')}
"""

# ARGV: P, name, key, token, now
BEGIN = r"""
local name = ARGV[2]
ensure(name, ARGV[3], tick())
redis.call('HSET', P .. 'intents:' .. name, ARGV[4], ARGV[5])
if redis.call('HGET', rkey(name), 'present') == '1' then return 1 end
return 0
"""

# ARGV: P, name, key, token, ops as JSON ('': the write failed), exists ('1', '0', ''), now
FINISH = r"""
local name, key, now = ARGV[2], ARGV[3], ARGV[7]
local ikey = P .. 'intents:' .. name
local mine = redis.call('HDEL', ikey, ARGV[4])
local gen = tick()
local row = redis.call('HMGET', rkey(name), 'present', 'dirty')
if redis.call('EXISTS', rkey(name)) == 0 then
  ensure(name, key, gen)
  row = {'0', '1'}
end
local clean = ARGV[5] ~= '' and mine == 1 and redis.call('HLEN', ikey) == 0 and row[2] ~= '1'
if clean then
  local tags, info, manifests = P .. 'tags:' .. name, P .. 'tag:' .. name,
    P .. 'manifests:' .. name
  local grown = 0
  for _, op in ipairs(cjson.decode(ARGV[5])) do
    if op[1] == 'tag' then
      local media = redis.call('HGET', manifests, op[3]) or ''
      redis.call('ZADD', tags, 0, op[2])
      redis.call('HSET', info, op[2], op[3] .. '\t' .. media .. '\t' .. now)
    elseif op[1] == 'untag' then
      redis.call('ZREM', tags, op[2])
      redis.call('HDEL', info, op[2])
    elseif op[1] == 'manifest' then
      redis.call('HSET', manifests, op[2], op[3])
      grown = grown + add_manifest(name, op[2], op[2] .. ' ' .. op[4] .. ' ' .. op[5])
    elseif op[1] == 'unmanifest' then
      redis.call('HDEL', manifests, op[2])
      grown = grown + remove_manifest(name, op[2])
      local all = redis.call('HGETALL', info)
      for i = 1, #all, 2 do
        if string.sub(all[i + 1], 1, #op[2] + 1) == op[2] .. '\t' then
          redis.call('ZREM', tags, all[i])
          redis.call('HDEL', info, all[i])
        end
      end
    end
  end
  add_size(name, grown)
end
local present = row[1] == '1' or ARGV[6] == '1'
if clean and not present and ARGV[6] == '0' then
  drop(name, key)
  return 1
end
local dirty = '1'
if clean then dirty = '0' end
redis.call('HSET', rkey(name), 'generation', gen, 'dirty', dirty)
if present then set_present(name, key) end
return 1
"""

# ARGV: P, then name, key pairs
MARK_DIRTY = r"""
for i = 2, #ARGV, 2 do
  ensure(ARGV[i], ARGV[i + 1], tick())
  redis.call('HSET', rkey(ARGV[i]), 'dirty', '1')
end
return 1
"""

# ARGV: P, then name, key pairs
MARK_PRESENT = r"""
for i = 2, #ARGV, 2 do
  if redis.call('EXISTS', rkey(ARGV[i])) == 1 then set_present(ARGV[i], ARGV[i + 1]) end
end
return 1
"""

# ARGV: P, name, key, stale_before
REPAIR_START = r"""
local name, key = ARGV[2], ARGV[3]
local ikey = P .. 'intents:' .. name
local all = redis.call('HGETALL', ikey)
local dropped = false
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) < tonumber(ARGV[4]) then
    redis.call('HDEL', ikey, all[i])
    dropped = true
  end
end
if dropped or redis.call('EXISTS', rkey(name)) == 0 then ensure(name, key, tick()) end
if dropped then redis.call('HSET', rkey(name), 'dirty', '1') end
if redis.call('HLEN', ikey) > 0 then return false end
return redis.call('HGET', rkey(name), 'generation')
"""

# ARGV: P, name, key, generation, exists ('1'/'0'), rows as JSON [[tag, digest, media, at]],
# manifests as JSON [[digest, media, blobs]]
REPAIR_COMMIT = r"""
local name, key = ARGV[2], ARGV[3]
if redis.call('HGET', rkey(name), 'generation') ~= ARGV[4] then return 0 end
if redis.call('HLEN', P .. 'intents:' .. name) > 0 then return 0 end
forget(name)
if ARGV[5] ~= '1' then
  drop(name, key)
  return 1
end
local size = 0
for _, m in ipairs(cjson.decode(ARGV[7])) do
  if m[2] ~= '' then redis.call('HSET', P .. 'manifests:' .. name, m[1], m[2]) end
  size = size + add_manifest(name, m[1], m[3])
end
redis.call('HSET', rkey(name), 'size', string.format('%.0f', size))
for _, r in ipairs(cjson.decode(ARGV[6])) do
  redis.call('ZADD', P .. 'tags:' .. name, 0, r[1])
  redis.call('HSET', P .. 'tag:' .. name, r[1], r[2] .. '\t' .. r[3] .. '\t' .. r[4])
  if r[3] ~= '' then redis.call('HSETNX', P .. 'manifests:' .. name, r[2], r[3]) end
end
redis.call('HSET', rkey(name), 'dirty', '0')
set_present(name, key)
return 1
"""

# ARGV: P, token, now, stale_before, force ('1'/'0')
CLAIM_BUILD = r"""
local meta = P .. 'meta'
local builder = redis.call('HGET', meta, 'builder') or ''
local beat = tonumber(redis.call('HGET', meta, 'heartbeat') or '0')
if ARGV[5] ~= '1' and (is_ready() or (builder ~= '' and beat >= tonumber(ARGV[4]))) then
  return 0
end
redis.call('HSET', meta, 'builder', ARGV[2], 'heartbeat', ARGV[3], 'ready', '0',
  'schema', SCHEMA, 'watermark', tick())
redis.call('DEL', P .. 'repos')
for _, name in ipairs(redis.call('SMEMBERS', P .. 'all')) do
  forget(name)
  redis.call('HSET', rkey(name), 'present', '0', 'dirty', '1', 'size', '0')
  redis.call('SADD', P .. 'pending', name)
end
return 1
"""

# ARGV: P, token, now
HEARTBEAT = r"""
if redis.call('HGET', P .. 'meta', 'builder') ~= ARGV[2] then return 0 end
redis.call('HSET', P .. 'meta', 'heartbeat', ARGV[3])
return 1
"""

# ARGV: P, token
FINISH_BUILD = r"""
local meta = P .. 'meta'
if redis.call('HGET', meta, 'builder') ~= ARGV[2] then return 0 end
local mark = tonumber(redis.call('HGET', meta, 'watermark') or '0')
for _, name in ipairs(redis.call('SMEMBERS', P .. 'pending')) do
  local gen = tonumber(redis.call('HGET', rkey(name), 'generation') or '0')
  if gen <= mark and redis.call('HLEN', P .. 'intents:' .. name) == 0 then
    drop(name, redis.call('HGET', rkey(name), 'key') or '')
  end
end
redis.call('HSET', meta, 'builder', '', 'ready', '1')
return 1
"""

SCRIPTS = {
    "read_tags": READ_TAGS,
    "read_catalog": READ_CATALOG,
    "begin": BEGIN,
    "finish": FINISH,
    "mark_dirty": MARK_DIRTY,
    "mark_present": MARK_PRESENT,
    "repair_start": REPAIR_START,
    "repair_commit": REPAIR_COMMIT,
    "claim_build": CLAIM_BUILD,
    "heartbeat": HEARTBEAT,
    "finish_build": FINISH_BUILD,
}
