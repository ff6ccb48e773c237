package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"roomkit/server/protocol"
)

// FuzzVerify: no token, however made, panics the verifier, and every token
// it accepts is HS256-signed by a known app and obeys the claim rules.
func FuzzVerify(f *testing.F) {
	secrets := map[string]string{"app1": "s3cret-s3cret-s3cret"}
	v := NewVerifier(secrets, func() time.Time { return now })
	good, _ := Mint(secrets["app1"], Claims{AppID: "app1", UserID: "alice", Room: "r1", Role: RoleHost}, now.Add(-time.Minute), time.Hour)
	f.Add(good)
	f.Add(good[:len(good)-2])
	parts := strings.Split(good, ".")
	f.Add("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	f.Add("")
	f.Add("...")
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err != nil {
			if err.Code != protocol.CodeTokenInvalid && err.Code != protocol.CodeTokenExpired {
				t.Fatalf("refused with code %d; want a token code", err.Code)
			}
			return
		}
		parsed, _, perr := jwt.NewParser().ParseUnverified(token, &Claims{})
		if perr != nil || parsed.Method.Alg() != "HS256" {
			t.Fatalf("accepted a token that is not HS256: %v", perr)
		}
		if _, ok := secrets[string(c.AppID)]; !ok {
			t.Fatalf("accepted unknown app %q", c.AppID)
		}
		if protocol.ValidateID("user_id", c.UserID, protocol.MaxUserIDBytes) != nil || c.ExpiresAt == nil || c.IssuedAt == nil ||
			c.ExpiresAt.Sub(c.IssuedAt.Time) > MaxLifetime || !c.ExpiresAt.After(now) || (c.Role != 0 && c.Role != RoleHost) {
			t.Fatalf("accepted claims that break the rules: %+v", c)
		}
	})
}
