package app

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/cluster/redistest"
)

func TestRedisFromFlagsOrEnvironment(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"ROOMKIT_REDIS": "redis://10.0.0.5:6379/0", "ROOMKIT_NODE_ID": "n7", "ROOMKIT_APPS": "1=0123456789abcdef"}[k]
	}
	c, err := ParseFlags(nil, env)
	require.NoError(t, err)
	assert.Equal(t, "redis://10.0.0.5:6379/0", c.Redis)
	assert.Equal(t, "n7", c.NodeID)
	c, err = ParseFlags([]string{"-redis", "redis://127.0.0.1:7000/1", "-node-id", "a"}, env)
	require.NoError(t, err)
	assert.Equal(t, "redis://127.0.0.1:7000/1", c.Redis)
	assert.Equal(t, "a", c.NodeID)

	_, err = ParseFlags([]string{"-redis", "redis://127.0.0.1:7000/1"}, func(string) string { return "" })
	require.Error(t, err, "several nodes cannot each make up a dev secret")
	assert.Contains(t, err.Error(), "-app id=secret")
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A node is ready once it has joined its cluster; one whose Redis is gone
// says it is not ready (a load balancer stops sending it connections),
// though it is alive.
func TestReadiness(t *testing.T) {
	single := start(t, nil)
	code, _ := get(t, "http://"+single.Addr()+"/readyz")
	assert.Equal(t, http.StatusOK, code, "one node needs nothing else")

	r := redistest.Start(t)
	node := start(t, func(c *Config) { c.Redis, c.NodeID, c.Dev = r.URL(), "node-a", false })
	code, _ = get(t, "http://"+node.Addr()+"/readyz")
	assert.Equal(t, http.StatusOK, code)
	r.Stop()
	code, body := get(t, "http://"+node.Addr()+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "not ready")
	assert.NotContains(t, body, r.Addr, "the Redis address is the operator's log's, not the port's")
	code, _ = get(t, "http://"+node.Addr()+"/healthz")
	assert.Equal(t, http.StatusOK, code, "alive all the same")

	_, err := Start(Config{Addr: "127.0.0.1:0", Apps: map[string]string{"1": secret}, Redis: r.URL()}, nil)
	require.Error(t, err, "a node does not start without its Redis")
}
