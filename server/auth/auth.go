// Package auth verifies and mints roomkit tokens: HS256 JWTs signed with an
// app's server secret. Verification pins the algorithm, so
// "none", RS* and ES* tokens are refused whatever their header says.
package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"roomkit/server/protocol"
)

// MaxLifetime is the longest a token may live: exp at most this after iat.
const MaxLifetime = 48 * time.Hour

// RoleHost in the role claim asks for the host role; 0 is a participant.
const RoleHost = 1

// AppID is an app's ID. Tokens may carry it as a JSON string or number.
type AppID string

// UnmarshalJSON accepts a string or a number.
func (a *AppID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = AppID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("app_id is neither a string nor a number")
	}
	*a = AppID(n.String())
	return nil
}

// Claims are a roomkit token's claims.
type Claims struct {
	AppID    AppID  `json:"app_id"`
	UserID   string `json:"user_id"`
	UserName string `json:"user_name,omitempty"`
	Room     string `json:"room,omitempty"` // when set, the token admits this room alone
	Role     int    `json:"role,omitempty"` // RoleHost or 0
	jwt.RegisteredClaims
}

// AdmitsRoom reports whether the token lets its holder into roomID.
func (c *Claims) AdmitsRoom(roomID string) bool { return c.Room == "" || c.Room == roomID }

// Verifier checks tokens against the configured apps. It is safe for
// concurrent use; it never changes after New.
type Verifier struct {
	apps map[string][]byte
	now  func() time.Time
}

// NewVerifier returns a Verifier for apps (app ID -> server secret). now may be
// nil for time.Now.
func NewVerifier(apps map[string]string, now func() time.Time) *Verifier {
	v := &Verifier{apps: make(map[string][]byte, len(apps)), now: now}
	for id, secret := range apps {
		v.apps[id] = []byte(secret)
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// Verify parses and checks token. It returns the claims, or a
// *protocol.Error with CodeTokenExpired for an expired token and
// CodeTokenInvalid for every other refusal, with a message saying why.
func (v *Verifier) Verify(token string) (*Claims, *protocol.Error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, v.key,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, protocol.Errorf(protocol.CodeTokenExpired, "the token expired at %s; ask your app server for a new one", c.ExpiresAt.UTC().Format(time.RFC3339))
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token is not valid yet (issued in the future); check the clock of the machine that made it")
	case err != nil:
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token was refused: %v", err)
	}
	if c.IssuedAt == nil {
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token has no iat claim")
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > MaxLifetime {
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token lives %s; at most %s between iat and exp is allowed", life, MaxLifetime)
	}
	if e := protocol.ValidateID("user_id", c.UserID, protocol.MaxUserIDBytes); e != nil {
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token's %s", e.Message)
	}
	if e := protocol.ValidateName("user_name", c.UserName, protocol.MaxUserNameBytes); e != nil {
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token's %s", e.Message)
	}
	if c.Room != "" {
		if e := protocol.ValidateID("room", c.Room, protocol.MaxRoomIDBytes); e != nil {
			return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token's %s", e.Message)
		}
	}
	if c.Role != 0 && c.Role != RoleHost {
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the token's role is %d; use 0 (participant) or 1 (host)", c.Role)
	}
	return &c, nil
}

// key finds the secret of the token's app.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	c, ok := t.Claims.(*Claims)
	if !ok {
		return nil, errors.New("unexpected claims type")
	}
	secret, ok := v.apps[string(c.AppID)]
	if !ok {
		return nil, fmt.Errorf("unknown app_id %q", c.AppID)
	}
	return secret, nil
}

// Mint signs claims for appID with secret, issued now and expiring after ttl.
// It is what `roomkit token` and the tests use.
func Mint(secret string, c Claims, now time.Time, ttl time.Duration) (string, error) {
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("failed to sign token: %w", err)
	}
	return s, nil
}

// ParseRole turns "host"/"participant"/"1"/"0" into a role claim.
func ParseRole(s string) (int, error) {
	switch s {
	case "", "participant":
		return 0, nil
	case "host":
		return RoleHost, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || (n != 0 && n != RoleHost) {
		return 0, fmt.Errorf("role %q: use host or participant", s)
	}
	return n, nil
}
