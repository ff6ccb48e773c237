package distributed

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Presence: where this node's users and sessions are, recorded in Redis
// for the other nodes (the sessions themselves are in the node's
// directory.Registry). A user's hash counts their sessions per node, so a
// call rings their tabs on every node and a user's last session anywhere
// ends their calls; a session's key names its node, so a client
// reconnecting to another node is handed its session (sessions.go). Each
// session key is kept 49 hours: longer than any token lives without being
// renewed on a reconnect.

const sessionTTL = 49 * time.Hour

func sessionKey(id string) string { return "roomkit:session:" + id }

// SessionStarted implements directory.Cluster.
func (e *Engine) SessionStarted(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.node.Redis().Set(ctx, sessionKey(id), e.node.ID(), sessionTTL).Err(); err != nil {
		e.log.Warn("a session's node was not recorded; a reload on another node will not resume it", "session", id, "err", err)
	}
}

// forgetSessionScript deletes the record only while it names this node
// (a session handed over is the new node's to forget).
var forgetSessionScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// SessionEnded implements directory.Cluster.
func (e *Engine) SessionEnded(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = forgetSessionScript.Run(ctx, e.node.Redis(), []string{sessionKey(id)}, e.node.ID()).Err()
}

// presenceKey is a hash: node -> sessions of the user there, and "name".
func presenceKey(app, user string) string {
	return fmt.Sprintf("roomkit:user:%d:%s:%s", len(app), app, user)
}

// UserOnline implements directory.Cluster.
func (e *Engine) UserOnline(app, user, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := e.node.Redis().TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, presenceKey(app, user), e.node.ID(), 1)
		p.HSet(ctx, presenceKey(app, user), "name", name)
		return nil
	})
	if err != nil {
		e.log.Warn("presence: a user's first session was not recorded", "user", user, "err", err)
	}
}

// offlineScript takes one session of node ARGV[1] off the user's hash and
// returns how many live nodes still have sessions of the user.
var offlineScript = redis.NewScript(`
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local live = 0
local fields = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(fields) do
  if f ~= 'name' then
    local s = redis.call('ZSCORE', KEYS[2], f)
    if s and tonumber(s) >= now - tonumber(ARGV[2]) then live = live + 1 end
  end
end
if #fields <= 1 then redis.call('DEL', KEYS[1]) end
return live`)

// UserOffline implements directory.Cluster.
func (e *Engine) UserOffline(app, user string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	live, err := offlineScript.Run(ctx, e.node.Redis(), []string{presenceKey(app, user), "roomkit:nodes"}, e.node.ID(), e.node.NodeTTL().Milliseconds()).Int()
	if err != nil {
		e.log.Warn("presence: a user's last session was not recorded", "user", user, "err", err)
		return true
	}
	return live == 0
}

// userNodes returns the live nodes other than this one where the user has
// sessions, and the user's name as last recorded.
func (e *Engine) userNodes(app, user string) ([]string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h, err := e.node.Redis().HGetAll(ctx, presenceKey(app, user)).Result()
	if err != nil {
		return nil, ""
	}
	var nodes []string
	for f := range h {
		// alive asks Redis of a node the last check (once a second) did
		// not see: one that has just started has users at once.
		if f != "name" && f != e.node.ID() && e.alive(f) {
			nodes = append(nodes, f)
		}
	}
	return nodes, h["name"]
}
