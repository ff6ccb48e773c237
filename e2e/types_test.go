package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// declaredMethods returns the method names js/roomkit.d.ts declares in the
// block that opens with the line head (a class or an interface).
func declaredMethods(t *testing.T, head string) []string {
	t.Helper()
	b, err := os.ReadFile("../js/roomkit.d.ts")
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	method := regexp.MustCompile(`^  ([A-Za-z_]\w*)(<[^(]*>)?\(`)
	var names []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, head):
			in = true
		case in && l == "}":
			require.NotEmpty(t, names, "no methods under %q", head)
			return names
		case in:
			if m := method.FindStringSubmatch(l); m != nil && !strings.Contains(strings.Join(names, ","), ","+m[1]+",") {
				names = append(names, m[1])
			}
		}
	}
	t.Fatalf("js/roomkit.d.ts has no %q", head)
	return nil
}

// publicMethods returns the functions the JS object expr has (own and
// inherited, not Object's), except those starting with an underscore.
func (p *page) publicMethods(expr string) []string {
	p.t.Helper()
	return evalAs[[]string](p, `(() => {
		const o = `+expr+`; const names = new Set();
		for (let q = Object.getPrototypeOf(o); q && q !== Object.prototype; q = Object.getPrototypeOf(q))
			for (const n of Object.getOwnPropertyNames(q)) if (n !== 'constructor' && !n.startsWith('_') && typeof o[n] === 'function') names.add(n);
		for (const n of Object.keys(o)) if (!n.startsWith('_') && typeof o[n] === 'function') names.add(n);
		return [...names].sort();
	})()`)
}

// The room client, the call kit and the session client have exactly the
// methods js/roomkit.d.ts declares: none missing, none undeclared.
func TestTypesDeclareEveryMethod(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	p := openPage(t, s)
	p.login("ann")
	p.eval(`(window.kit = RK.RoomKit.create(RK.RoomKit.generateKitTokenForTest('1', 'x'.repeat(20), 'r', 'ann', 'Ann', 60)), window.sc = RK.RoomKit.createClient(), true)`)
	for _, c := range []struct{ head, expr string }{
		{"export declare class RoomKitClient {", "zim"},
		{"export interface CallKit {", "kit"},
		{"export interface SessionClient {", "sc"},
	} {
		declared := declaredMethods(t, c.head)
		got := p.publicMethods(c.expr)
		want, _ := json.Marshal(declared)
		assert.ElementsMatch(t, declared, got, "%s: the d.ts declares %s", c.head, want)
	}
}
