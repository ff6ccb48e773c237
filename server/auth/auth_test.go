package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

func claims(mut func(*Claims)) *Claims {
	c := &Claims{AppID: "app1", UserID: "alice", UserName: "Alice"}
	c.IssuedAt = jwt.NewNumericDate(now.Add(-time.Minute))
	c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour))
	if mut != nil {
		mut(c)
	}
	return c
}

func TestVerify(t *testing.T) {
	v := NewVerifier(map[string]string{"app1": "s3cret", "42": "numeric"}, func() time.Time { return now })
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	hs := func(c *Claims) string { return sign(t, jwt.SigningMethodHS256, []byte("s3cret"), c) }

	tests := []struct {
		name     string
		token    string
		wantCode protocol.Code
		wantMsg  string
	}{
		{"valid", hs(claims(nil)), 0, ""},
		{"numeric app id", sign(t, jwt.SigningMethodHS256, []byte("numeric"), jwt.MapClaims{
			"app_id": 42, "user_id": "bob", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}), 0, ""},
		{"expired", hs(claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) })), protocol.CodeTokenExpired, "expired"},
		{"future iat", hs(claims(func(c *Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour)) })), protocol.CodeTokenInvalid, "not valid yet"},
		{"no exp", hs(claims(func(c *Claims) { c.ExpiresAt = nil })), protocol.CodeTokenInvalid, "exp"},
		{"no iat", hs(claims(func(c *Claims) { c.IssuedAt = nil })), protocol.CodeTokenInvalid, "no iat"},
		{"lives too long", hs(claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(49 * time.Hour)) })), protocol.CodeTokenInvalid, "at most 48h"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("other"), claims(nil)), protocol.CodeTokenInvalid, "signature"},
		{"unknown app", hs(claims(func(c *Claims) { c.AppID = "nope" })), protocol.CodeTokenInvalid, `unknown app_id "nope"`},
		{"HS512", sign(t, jwt.SigningMethodHS512, []byte("s3cret"), claims(nil)), protocol.CodeTokenInvalid, "signing method"},
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, claims(nil)), protocol.CodeTokenInvalid, "signing method"},
		{"ES256", sign(t, jwt.SigningMethodES256, ecKey, claims(nil)), protocol.CodeTokenInvalid, "signing method"},
		{"none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), protocol.CodeTokenInvalid, "refused"},
		{"malformed", "not.a.jwt", protocol.CodeTokenInvalid, "malformed"},
		{"empty", "", protocol.CodeTokenInvalid, "refused"},
		{"bad user id", hs(claims(func(c *Claims) { c.UserID = "a b" })), protocol.CodeTokenInvalid, "user_id"},
		{"long user id", hs(claims(func(c *Claims) { c.UserID = "abcdefghijklmnopqrstuvwxyz0123456" })), protocol.CodeTokenInvalid, "at most 32"},
		{"bad role", hs(claims(func(c *Claims) { c.Role = 7 })), protocol.CodeTokenInvalid, "role is 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(tt.token)
			if tt.wantCode == 0 {
				require.Nil(t, err)
				assert.NotEmpty(t, c.UserID)
				return
			}
			require.NotNil(t, err)
			assert.Equal(t, tt.wantCode, err.Code)
			assert.Contains(t, err.Message, tt.wantMsg)
		})
	}
}

func TestNoneHeaderWithHMACSignatureIsRefused(t *testing.T) {
	// A token whose header says "none" but carries an HMAC signature.
	v := NewVerifier(map[string]string{"app1": "s3cret"}, func() time.Time { return now })
	good := sign(t, jwt.SigningMethodHS256, []byte("s3cret"), claims(nil))
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	parts := splitDots(good)
	_, err := v.Verify(header + "." + parts[1] + "." + parts[2])
	require.NotNil(t, err)
	assert.Equal(t, protocol.CodeTokenInvalid, err.Code)
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestMintRoundTrip(t *testing.T) {
	v := NewVerifier(map[string]string{"app1": "s3cret"}, func() time.Time { return now })
	tok, err := Mint("s3cret", Claims{AppID: "app1", UserID: "carol", Room: "r1", Role: RoleHost}, now, time.Hour)
	require.NoError(t, err)
	c, verr := v.Verify(tok)
	require.Nil(t, verr)
	assert.Equal(t, "carol", c.UserID)
	assert.True(t, c.AdmitsRoom("r1"))
	assert.False(t, c.AdmitsRoom("r2"))
	assert.Equal(t, RoleHost, c.Role)
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]int{"": 0, "participant": 0, "host": 1, "1": 1, "0": 0} {
		got, err := ParseRole(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseRole("admin")
	assert.Error(t, err)
}
