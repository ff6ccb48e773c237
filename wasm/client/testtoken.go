package client

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"roomkit/wasm/client/internal/sha256"
)

// TestTokenClaims are the claims MintTestToken signs.
type TestTokenClaims struct {
	AppID    string `json:"app_id"`
	UserID   string `json:"user_id"`
	UserName string `json:"user_name,omitempty"`
	Room     string `json:"room,omitempty"`
	Role     int    `json:"role,omitempty"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// MintTestToken signs an HS256 token with the app's server secret, as the
// server's own minting does. It exists for development and tests
// (generateKitTokenForTest): a production page never holds the secret and
// gets its tokens from its app server instead. It signs with the
// client's own small SHA-256 so the browser bundle stays small.
func MintTestToken(secret string, c TestTokenClaims, now time.Time, ttl time.Duration) string {
	c.IssuedAt = now.Unix()
	c.Expires = now.Add(ttl).Unix()
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(c) // plain strings and numbers always encode
	signing := header + "." + enc.EncodeToString(body)
	mac := sha256.HMAC([]byte(secret), []byte(signing))
	return signing + "." + enc.EncodeToString(mac[:])
}
