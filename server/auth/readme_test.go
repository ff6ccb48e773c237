package auth

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeBlock returns the fenced code block of lang that follows the
// README line starting with after.
func readmeBlock(t *testing.T, after, lang string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, "\n"+after)
	require.GreaterOrEqual(t, i, 0, "README has no line starting %q", after)
	start := strings.Index(s[i:], "```"+lang+"\n")
	require.GreaterOrEqual(t, start, 0)
	body := s[i+start+len("```"+lang+"\n"):]
	return body[:strings.Index(body, "```")]
}

// The README's Go way of minting a token, as written there, makes a token
// the server accepts.
func TestReadmeGoTokenIsAccepted(t *testing.T) {
	const goCode = `now := time.Now()
token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
	"app_id": "1234", "user_id": "alice", "user_name": "Alice",
	"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
}).SignedString([]byte(secret))
`
	assert.Equal(t, goCode, readmeBlock(t, "In Go, with", "go"), "the README shows the code this test runs")
	secret := "readme-secret-0123456789"
	now := time.Now()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"app_id": "1234", "user_id": "alice", "user_name": "Alice",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}).SignedString([]byte(secret))
	require.NoError(t, err)
	c, perr := NewVerifier(map[string]string{"1234": secret}, nil).Verify(token)
	require.Nil(t, perr)
	assert.Equal(t, "alice", c.UserID)
	assert.Equal(t, "Alice", c.UserName)
}

// The README's Node function, run by node, mints tokens the server
// accepts, with the room and role it was given.
func TestReadmeNodeTokenIsAccepted(t *testing.T) {
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node runs the README's token example (make test's wasm tests need it too)")
	dir := t.TempDir()
	script := readmeBlock(t, "In Node, with", "js") + `
console.log(roomkitToken({ appID: 1234, secret: 'readme-secret-0123456789', userID: 'bob', userName: 'Bob', room: 'r1', role: 1 }));
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mint.mjs"), []byte(script), 0o644))
	out, err := exec.Command(node, filepath.Join(dir, "mint.mjs")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	c, perr := NewVerifier(map[string]string{"1234": "readme-secret-0123456789"}, nil).Verify(strings.TrimSpace(string(out)))
	require.Nil(t, perr, "%s", out)
	assert.Equal(t, "bob", c.UserID)
	assert.Equal(t, "Bob", c.UserName)
	assert.Equal(t, "r1", c.Room)
	assert.Equal(t, RoleHost, c.Role)
	_, perr = NewVerifier(map[string]string{"1234": "another-secret-0123456789"}, nil).Verify(strings.TrimSpace(string(out)))
	assert.NotNil(t, perr, "signed with the secret it was given")
}
