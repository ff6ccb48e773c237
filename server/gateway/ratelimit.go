package gateway

import (
	"sync"
	"time"

	"roomkit/server/protocol"
)

// Rate is a sustained rate with the burst allowed above it.
type Rate struct {
	PerSecond float64
	Burst     int
}

func (r Rate) orDefault(perSecond float64, burst int) Rate {
	if r.PerSecond == 0 {
		r.PerSecond = perSecond
	}
	if r.Burst == 0 {
		r.Burst = burst
	}
	return r
}

// tokenBucket limits a rate. It has no lock: a connection's buckets are
// used by its read loop alone; shared ones sit behind a lockedBucket.
type tokenBucket struct {
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// allow takes a token if there is one.
func (b *tokenBucket) allow(now time.Time) bool {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// lockedBucket is a tokenBucket shared by several connections.
type lockedBucket struct {
	mu     sync.Mutex
	bucket *tokenBucket
	rate   Rate
}

func newLockedBucket(r Rate) *lockedBucket {
	return &lockedBucket{bucket: newTokenBucket(r.PerSecond, r.Burst, time.Now()), rate: r}
}

func (b *lockedBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bucket.allow(now)
}

// appLimit is one app's budget, shared by all its users: one app's load
// cannot take the server from the others.
type appLimit struct {
	requests, messages *lockedBucket
}

func newAppLimit(cfg Config) *appLimit {
	return &appLimit{requests: newLockedBucket(cfg.AppRequests), messages: newLockedBucket(cfg.AppMessages)}
}

// userLimit is one user's budget, shared by all their sessions, so twenty
// tabs of one user send no more than one user may. It is checked after the
// connection's own, and charges the app's too.
type userLimit struct {
	requests, messages, invites *lockedBucket
	app                         *appLimit
}

func newUserLimit(cfg Config, app *appLimit) *userLimit {
	return &userLimit{requests: newLockedBucket(cfg.UserRequests), messages: newLockedBucket(cfg.UserMessages),
		invites: newLockedBucket(cfg.UserInvites), app: app}
}

// allowRequest charges one request to the user and the app.
func (l *userLimit) allowRequest(now time.Time) *protocol.Error {
	if !l.requests.allow(now) {
		return protocol.Errorf(protocol.CodeRateLimited, "too many requests from this user across their connections: at most %g a second (bursts of %d); slow down", l.requests.rate.PerSecond, l.requests.rate.Burst)
	}
	if !l.app.requests.allow(now) {
		return protocol.Errorf(protocol.CodeRateLimited, "too many requests from this app: at most %g a second (bursts of %d) for all its users; try again shortly", l.app.requests.rate.PerSecond, l.app.requests.rate.Burst)
	}
	return nil
}

// allowMessage charges one room message to the user and the app.
func (l *userLimit) allowMessage(now time.Time) *protocol.Error {
	if !l.messages.allow(now) {
		return protocol.Errorf(protocol.CodeMessageRateLimited, "too many messages from this user across their connections: at most %g a second (bursts of %d); slow down", l.messages.rate.PerSecond, l.messages.rate.Burst)
	}
	if !l.app.messages.allow(now) {
		return protocol.Errorf(protocol.CodeMessageRateLimited, "too many messages from this app: at most %g a second (bursts of %d) for all its users; try again shortly", l.app.messages.rate.PerSecond, l.app.messages.rate.Burst)
	}
	return nil
}

// allowInvite charges one call invitation (callInvite or callAdd).
func (l *userLimit) allowInvite(now time.Time) *protocol.Error {
	if !l.invites.allow(now) {
		return protocol.Errorf(protocol.CodeRateLimited, "too many call invitations from this user: at most %g a second (bursts of %d); slow down", l.invites.rate.PerSecond, l.invites.rate.Burst)
	}
	return nil
}
