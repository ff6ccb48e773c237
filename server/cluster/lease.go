package cluster

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A lease names its holder and has no expiry of its own: it lasts as long
// as its holder lives. Another node takes it over only once the holder is
// dead (not heard from within NodeTTL, by Redis's clock) or gone from the
// live list (Leave, Forget), so a thousand rooms cost no renewals.

func leaseKey(name string) string { return "roomkit:lease:" + name }

// acquireScript: KEYS[1] the lease, KEYS[2] the live list; ARGV[1] this
// node, ARGV[2] NodeTTL in ms. Returns {holder, 1 if this call took it}.
var acquireScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return {cur, 0} end
if cur then
  local score = redis.call('ZSCORE', KEYS[2], cur)
  local t = redis.call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  if score and tonumber(score) >= now - tonumber(ARGV[2]) then return {cur, 0} end
end
redis.call('SET', KEYS[1], ARGV[1])
return {ARGV[1], 1}`)

// Acquire takes the lease when it is free or its holder is dead, and
// returns its holder (this node, or the live node holding it) and whether
// this call took it.
func (n *Node) Acquire(ctx context.Context, name string) (holder string, took bool, err error) {
	res, err := acquireScript.Run(ctx, n.rdb, []string{leaseKey(name), keyNodes}, n.ID(), n.cfg.NodeTTL.Milliseconds()).Slice()
	if err != nil {
		return "", false, err
	}
	if len(res) != 2 {
		return "", false, fmt.Errorf("cluster: acquire answered %v", res)
	}
	holder, _ = res[0].(string)
	took = res[1] == int64(1)
	return holder, took, nil
}

// releaseScript deletes the lease only if ARGV[1] holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Release gives the lease up if this node holds it.
func (n *Node) Release(ctx context.Context, name string) error {
	return releaseScript.Run(ctx, n.rdb, []string{leaseKey(name)}, n.ID()).Err()
}

// Holder returns the lease's holder, or "" when nobody holds it.
func (n *Node) Holder(ctx context.Context, name string) (string, error) {
	h, err := n.rdb.Get(ctx, leaseKey(name)).Result()
	if err == redis.Nil {
		return "", nil
	}
	return h, err
}

// transferScript moves a lease from ARGV[1] to ARGV[2].
var transferScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0`)

// Take moves the lease from node from to this node, if from holds it (a
// node handing its rooms over as it stops); it reports whether it did.
func (n *Node) Take(ctx context.Context, name, from string) (bool, error) {
	moved, err := transferScript.Run(ctx, n.rdb, []string{leaseKey(name)}, from, n.ID()).Int()
	return moved == 1, err
}

// LeasesOf returns the names of the leases matching pattern (a glob over
// lease names) whose holder is one of holders: what dead nodes held. It
// scans every lease: for the rare event of a node's death.
func (n *Node) LeasesOf(ctx context.Context, pattern string, holders map[string]bool) ([]string, error) {
	var out []string
	iter := n.rdb.Scan(ctx, 0, leaseKey(pattern), 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		h, err := n.rdb.Get(ctx, key).Result()
		if err == nil && holders[h] {
			out = append(out, key[len(leaseKey("")):])
		}
	}
	return out, iter.Err()
}
