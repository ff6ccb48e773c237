package engine

import (
	"sync"
	"sync/atomic"

	"roomkit/server/protocol"
)

// RoomOverheadBytes is what a room costs against the stored-bytes budget
// before anything is put in it, so empty rooms kept by a destroy delay
// count too.
const RoomOverheadBytes = 2 << 10

// budget counts the bytes rooms hold (history, room attributes, member
// attributes, and RoomOverheadBytes each) against a limit per app and one
// for the server. Charges are made under the room's lock, before the
// change they pay for, so a refused change leaves nothing half done.
type budget struct {
	perApp, server int64
	total          atomic.Int64

	mu   sync.Mutex
	apps map[string]*appUsage // made on first use, kept: apps are configured
}

// appUsage is one app's share of the budget.
type appUsage struct {
	b    *budget
	used atomic.Int64
}

func newBudget(perApp, server int64) *budget {
	return &budget{perApp: perApp, server: server, apps: map[string]*appUsage{}}
}

// app returns app's usage counter.
func (b *budget) app(app string) *appUsage {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.apps[app]
	if u == nil {
		u = &appUsage{b: b}
		b.apps[app] = u
	}
	return u
}

// charge takes n bytes (n < 0 gives them back). It refuses with
// CodeStorageLimit, taking nothing, when the app or the server would pass
// its limit; what said refuses is in the message.
func (u *appUsage) charge(n int64, what string) error {
	if n <= 0 {
		u.used.Add(n)
		u.b.total.Add(n)
		return nil
	}
	app := u.used.Add(n)
	total := u.b.total.Add(n)
	if app <= u.b.perApp && total <= u.b.server {
		return nil
	}
	u.used.Add(-n)
	u.b.total.Add(-n)
	if app > u.b.perApp {
		return protocol.Errorf(protocol.CodeStorageLimit, "%s: this app's rooms hold %d bytes, its limit on this server; delete attributes or let rooms end first", what, u.b.perApp)
	}
	return protocol.Errorf(protocol.CodeStorageLimit, "%s: the server holds %d bytes of room data, its limit; try again later", what, u.b.server)
}

// StoredBytes returns the bytes charged for app's rooms and for all rooms.
func (m *Manager) StoredBytes(app string) (appBytes, serverBytes int64) {
	return m.budget.app(app).used.Load(), m.budget.total.Load()
}

// StoredBytesByApp returns the bytes charged for each app that has used
// any, and the limits: per app and for the server.
func (m *Manager) StoredBytesByApp() (byApp map[string]int64, perAppLimit, serverLimit int64) {
	m.budget.mu.Lock()
	defer m.budget.mu.Unlock()
	byApp = make(map[string]int64, len(m.budget.apps))
	for app, u := range m.budget.apps {
		byApp[app] = u.used.Load()
	}
	return byApp, m.budget.perApp, m.budget.server
}
