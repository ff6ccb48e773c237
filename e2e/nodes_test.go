package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/cluster/redistest"
)

// The server binary the node tests run, built once.
var (
	serverBinOnce sync.Once
	serverBin     string
	serverBinErr  error
)

func buildServer(t *testing.T) string {
	t.Helper()
	serverBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "roomkit-node-")
		if err != nil {
			serverBinErr = err
			return
		}
		serverBin = filepath.Join(dir, "roomkit")
		out, err := exec.Command("go", "build", "-o", serverBin, "../server/cmd/roomkit").CombinedOutput()
		if err != nil {
			serverBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, serverBinErr)
	return serverBin
}

// node is a roomkit server process, one node of a cluster.
type node struct {
	id   string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *node) url() string { return "http://" + n.addr + "/" }

// startNode starts a server process on a free loopback port as a node of
// the cluster on redisURL, serving the repository's page and bundle.
func startNode(t *testing.T, redisURL, id string) *node {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	cmd := exec.Command(buildServer(t), "serve", "-addr", "127.0.0.1:0", "-static", root, "-app", app.DevAppID+"="+secret,
		"-redis", redisURL, "-node-id", id, "-media-udp-port", "0", "-media-loopback")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node %s logged:\n%s", id, logs.String())
		}
	})
	n := &node{id: id, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "roomkit listening on http://"); ok {
			n.addr = strings.TrimSuffix(addr, "/")
			break
		}
	}
	require.NotEmpty(t, n.addr, "node %s did not say where it listens", id)
	go func() {
		for lines.Scan() {
		}
	}()
	return n
}

// syncBuffer is a bytes.Buffer safe for a process's writes and a test's read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// kill ends the node at once, as a crash would: no goodbye to anyone.
func (n *node) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, n.cmd.Process.Signal(syscall.SIGKILL))
	<-n.done
}

func startCluster(t *testing.T, count int) []*node {
	t.Helper()
	r := redistest.Start(t)
	var nodes []*node
	for i := range count {
		nodes = append(nodes, startNode(t, r.URL(), fmt.Sprint("node", i+1)))
	}
	return nodes
}

// The room-messaging SDK's room scenario with three users, each on
// another node: the same event sequences as on one node.
func TestRoomScenarioAcrossThreeNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	alice, bob, carol := openURL(t, nodes[0].url()), openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	alice.login("alice")
	bob.login("bob")
	carol.login("carol")

	res := alice.mustCall(`zim.createRoom({ roomID: 'r1', roomName: 'Room one' })`)
	assert.JSONEq(t, `{"roomInfo":{"baseInfo":{"roomID":"r1","roomName":"Room one"}}}`, res)
	assert.Equal(t, []string{"room r1 1 4", "room r1 2 0"}, alice.waitEvents("room r1 2 0"))
	assert.Equal(t, `error 6000323 true room "r1" already exists; join or enter it instead`, bob.call(`zim.createRoom({ roomID: 'r1', roomName: 'x' })`))
	assert.Equal(t, []string{"room r1 1 4", "room r1 0 5"}, bob.waitEvents("room r1 0 5"))
	assert.True(t, strings.HasPrefix(bob.call(`zim.joinRoom('nope')`), "error 6000322 true "))
	bob.waitEvents("room nope 0 7")

	assert.Contains(t, bob.mustCall(`zim.joinRoom('r1')`), `"roomName":"Room one"`)
	bob.waitEvents("room r1 1 6", "room r1 2 0")
	alice.waitEvents("joined r1 bob/BOB")
	carol.mustCall(`zim.enterRoom({ roomID: 'r1', roomName: 'ignored' })`)
	alice.waitEvents("joined r1 carol/CAROL")
	bob.waitEvents("joined r1 carol/CAROL")
	members := carol.mustCall(`zim.queryRoomMemberList('r1', { count: 10, nextFlag: '' })`)
	assert.JSONEq(t, `{"roomID":"r1","memberList":[{"userID":"alice","userName":"ALICE","role":"participant"},{"userID":"bob","userName":"BOB","role":"participant"},{"userID":"carol","userName":"CAROL","role":"participant"}],"nextFlag":""}`, members)

	// Messages: one order for everyone, and the history.
	for i, p := range []*page{bob, carol, alice, carol} {
		p.mustCall(fmt.Sprintf(`zim.sendRoomMessage({ type: 1, message: 'm%d' }, 'r1')`, i))
	}
	order := func(p *page, n int) []string {
		var got []string
		require.Eventually(t, func() bool {
			got = evalAs[[]string](p, `received.map((m) => m.message)`)
			return len(got) >= n
		}, 10*time.Second, 20*time.Millisecond, "%v", got)
		return got
	}
	assert.Equal(t, []string{"m0", "m1", "m3"}, order(alice, 3))
	assert.Equal(t, []string{"m1", "m2", "m3"}, order(bob, 3))
	assert.Equal(t, []string{"m0", "m2"}, order(carol, 2))
	assert.Contains(t, alice.mustCall(`zim.queryHistoryRoomMessage('r1', { count: 10 })`), `"m3"`)

	// Attributes set on one node are seen on the others.
	bob.mustCall(`zim.setRoomAttributes({ topic: 'launch' }, 'r1')`)
	carol.waitEvents(`attrs r1 0{"topic":"launch"}`)
	assert.JSONEq(t, `{"roomID":"r1","roomAttributes":{"topic":"launch"}}`, alice.mustCall(`zim.queryRoomAllAttributes('r1')`))

	// Switch from a room on one node into a room on another.
	carol.mustCall(`zim.createRoom({ roomID: 'to', roomName: 'To' })`)
	carol.takeEvents()
	alice.takeEvents()
	res = alice.mustCall(`zim.switchRoom('r1', { roomID: 'to', roomName: 'To' }, false)`)
	assert.Contains(t, res, `"roomID":"to"`)
	assert.Equal(t, []string{"room to 1 11", "room to 2 0", "room r1 0 0"}, alice.waitEvents("room r1 0 0"))
	bob.waitEvents("left r1 alice")
	carol.waitEvents("joined to alice/ALICE")
	assert.True(t, strings.HasPrefix(alice.call(`zim.switchRoom('to', { roomID: 'missing', roomName: 'M' }, false)`), "error 6000322 true "))
	assert.Equal(t, []string{"room missing 1 11", "room missing 0 12"}, alice.waitEvents("room missing 0 12"))
	assert.Equal(t, []string{"to"}, evalAs[[]string](alice, `zim.getRooms()`))

	// leaveAll leaves every room of the connection, on every node.
	bob.mustCall(`zim.enterRoom({ roomID: 'to', roomName: 'To' })`)
	alice.waitEvents("joined to bob/BOB")
	assert.JSONEq(t, `{"roomIDs":["r1","to"]}`, bob.mustCall(`zim.leaveAllRoom()`))
	alice.waitEvents("left to bob")
	carol.waitEvents("left r1 bob")
}

// A node killed while its users are in rooms owned elsewhere: the others
// see them leave within the dead-node bound (NodeTTL 5 s, checked every
// second), as if they had closed their tabs.
func TestMembersOfAKilledNodeLeave(t *testing.T) {
	nodes := startCluster(t, 3)
	alice, bob, carol := openURL(t, nodes[0].url()), openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	alice.login("alice")
	bob.login("bob")
	carol.login("carol")
	alice.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	bob.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	carol.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	alice.waitEvents("joined busy bob/BOB", "joined busy carol/CAROL")

	start := time.Now()
	nodes[2].kill(t)
	alice.waitEventsWithin(15*time.Second, "left busy carol")
	bob.waitEventsWithin(15*time.Second, "left busy carol")
	took := time.Since(start)
	t.Logf("the others saw carol leave %s after her node was killed", took.Round(100*time.Millisecond))
	assert.Less(t, took, 10*time.Second)
	assert.JSONEq(t, `{"roomID":"busy","count":2}`, bob.mustCall(`zim.queryRoomOnlineMemberCount('busy')`))
}

// nodeKit sets up user's call kit on a node's page (the nodes have no dev
// config to fetch: the page is given the app and secret).
func (p *page) nodeKit(user string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`window.devConfig = { appID: %q, serverSecret: %q }`, app.DevAppID, secret))
	p.kit(user, "")
}

// An invitation from a user on node 1 rings the callee's tabs on nodes 2
// and 3; the first answer wins and the other tab stops ringing. An
// invitation nobody answers times out once for the inviter, and stops
// ringing on every tab.
func TestInvitationAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	ann, ben2, ben3 := openURL(t, nodes[0].url()), openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	ann.nodeKit("ann")
	ben2.nodeKit("ben")
	ben3.nodeKit("ben")
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben2.waitText(`[data-testid=incoming-call]`, "calling you")
	ben3.waitText(`[data-testid=incoming-call]`, "calling you")
	ben3.click("incoming-accept")
	ben2.waitGone("incoming-call")
	ann.waitEv("accepted ben")
	ben3.waitMembers("ann", "ben")
	ann.waitMembers("ann", "ben")
	assert.False(t, ben2.visible("call-view"), "the other tab stays out of the call")

	dan, cat2, cat3 := openURL(t, nodes[0].url()), openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	dan.nodeKit("dan")
	cat2.nodeKit("cat")
	cat3.nodeKit("cat")
	dan.invite(`[{ userID: 'cat' }]`, "timeout: 2")
	cat2.waitText(`[data-testid=incoming-call]`, "calling you")
	cat3.waitText(`[data-testid=incoming-call]`, "calling you")
	dan.waitEv("timeout cat")
	cat2.waitGone("incoming-call")
	cat3.waitGone("incoming-call")
	time.Sleep(500 * time.Millisecond)
	assert.NotContains(t, dan.ev(), "timeout cat", "it timed out once")
	assert.Equal(t, `error 6000271 true`, strings.Join(strings.Fields(dan.invite(`[{userID:'a'},{userID:'b'},{userID:'c'},{userID:'d'},{userID:'e'},{userID:'f'},{userID:'g'},{userID:'h'},{userID:'i'},{userID:'j'}]`, ""))[:3], " "),
		"errors keep their codes from the calls node")
}

// switchingProxy stands for a load balancer: it sends every request,
// WebSocket upgrades included, to the node it currently points at.
type switchingProxy struct {
	*httptest.Server
	target atomic.Pointer[url.URL]
}

func newSwitchingProxy(t *testing.T, to *node) *switchingProxy {
	t.Helper()
	p := &switchingProxy{}
	p.point(to)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(p.target.Load())
		r.Out.Host = r.In.Host // the page's origin is the proxy's: keep it
	}}
	p.Server = httptest.NewServer(rp)
	t.Cleanup(p.Close)
	return p
}

func (p *switchingProxy) point(to *node) {
	u, _ := url.Parse(to.url())
	p.target.Store(u)
}

// A reload that lands on another node behind the load balancer resumes
// the session there: the others see no leave and no join, and a message
// sent during the reload arrives once.
func TestReloadOnAnotherNodeResumes(t *testing.T) {
	nodes := startCluster(t, 3)
	lb := newSwitchingProxy(t, nodes[0])
	alice := openURL(t, lb.URL+"/")
	bob := openURL(t, nodes[2].url())
	alice.login("alice")
	bob.login("bob")
	alice.mustCall(`zim.enterRoom({ roomID: 'r', roomName: 'R' })`)
	bob.mustCall(`zim.enterRoom({ roomID: 'r', roomName: 'R' })`)
	alice.waitEvents("joined r bob/BOB")
	bob.takeEvents()

	lb.point(nodes[1])
	alice.reload()
	bob.mustCall(`zim.sendRoomMessage({ type: 1, message: 'during the reload' }, 'r')`)
	alice.loadModule()
	alice.login("alice")
	assert.True(t, evalAs[bool](alice, `zim.resumed`), "resumed on node2: %s", evalAs[string](alice, `zim.resumeError`))
	assert.Equal(t, []string{"r"}, evalAs[[]string](alice, `zim.getRooms()`))
	require.Eventually(t, func() bool {
		return evalAs[int](alice, `received.filter((m) => m.message === 'during the reload').length`) == 1
	}, 10*time.Second, 20*time.Millisecond, "the message sent during the reload arrives")

	// The session lives on node2 now: it sends and leaves from there.
	alice.mustCall(`zim.sendRoomMessage({ type: 1, message: 'back' }, 'r')`)
	require.Eventually(t, func() bool {
		return evalAs[int](bob, `received.filter((m) => m.message === 'back').length`) == 1
	}, 10*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 1, evalAs[int](alice, `received.filter((m) => m.message === 'during the reload').length`), "once")
	for _, e := range bob.takeEvents() {
		assert.NotContains(t, e, "alice", "bob saw nothing of alice's reload")
	}
	assert.JSONEq(t, `{"roomID":"r","count":2}`, bob.mustCall(`zim.queryRoomOnlineMemberCount('r')`))
	alice.mustCall(`zim.leaveRoom('r')`)
	bob.waitEvents("left r alice")
}

// stop sends SIGTERM and waits for the node to exit.
func (n *node) stop(t *testing.T, within time.Duration) {
	t.Helper()
	require.NoError(t, n.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-n.done:
	case <-time.After(within):
		t.Fatalf("node %s did not stop within %s", n.id, within)
	}
}

// A node stopped gracefully (SIGTERM) hands its rooms to the others before
// it goes: the room it owned goes on with its members, attributes and
// history; its own user reconnects through the load balancer to another
// node and resumes there; nobody sees anyone leave or join.
func TestGracefulStopHandsRoomsOver(t *testing.T) {
	nodes := startCluster(t, 3)
	lb := newSwitchingProxy(t, nodes[0])
	alice := openURL(t, lb.URL+"/")
	bob, carol := openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	alice.login("alice")
	bob.login("bob")
	carol.login("carol")
	alice.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' }, { roomAttributes: { topic: 'drain' } })`) // node1 owns it
	bob.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	carol.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	alice.waitEvents("joined busy bob/BOB", "joined busy carol/CAROL")
	bob.mustCall(`zim.sendRoomMessage({ type: 1, message: 'before' }, 'busy')`)
	bob.takeEvents()
	carol.takeEvents()

	lb.point(nodes[1])
	start := time.Now()
	nodes[0].stop(t, 15*time.Second)
	t.Logf("node1 stopped %s after SIGTERM", time.Since(start).Round(100*time.Millisecond))

	// alice's client reconnected to node2 and resumed; the room goes on.
	require.Eventually(t, func() bool {
		return strings.HasPrefix(alice.call(`zim.sendRoomMessage({ type: 1, message: 'after' }, 'busy')`), "ok ")
	}, 15*time.Second, 200*time.Millisecond, "alice can send again")
	for _, p := range []*page{bob, carol} {
		require.Eventually(t, func() bool {
			return evalAs[int](p, `received.filter((m) => m.message === 'after').length`) == 1
		}, 10*time.Second, 20*time.Millisecond)
	}
	assert.JSONEq(t, `{"roomID":"busy","count":3}`, carol.mustCall(`zim.queryRoomOnlineMemberCount('busy')`))
	assert.JSONEq(t, `{"roomID":"busy","roomAttributes":{"topic":"drain"}}`, bob.mustCall(`zim.queryRoomAllAttributes('busy')`))
	assert.Contains(t, carol.mustCall(`zim.queryHistoryRoomMessage('busy', { count: 10 })`), `"before"`, "the history came along")
	for _, p := range []*page{bob, carol} {
		for _, e := range p.takeEvents() {
			assert.False(t, strings.HasPrefix(e, "left ") || strings.HasPrefix(e, "joined "), "no leave or join: %s", e)
		}
	}
	assert.Equal(t, 0, evalAs[int](alice, `received.filter((m) => m.message === 'after').length`), "not sent to herself")
}

// The node owning a busy room is killed (SIGKILL): another node takes the
// room over from its copy in Redis, and every client's view converges
// within 20 s: the members (the killed node's user, reconnected through
// the load balancer, is back in the room), the attributes and the last
// messages.
func TestKilledOwnersRoomGoesOn(t *testing.T) {
	nodes := startCluster(t, 3)
	lb := newSwitchingProxy(t, nodes[0])
	alice := openURL(t, lb.URL+"/")
	bob, carol := openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	alice.login("alice")
	bob.login("bob")
	carol.login("carol")
	alice.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`) // node1 owns it
	bob.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	carol.mustCall(`zim.enterRoom({ roomID: 'busy', roomName: 'Busy' })`)
	alice.waitEvents("joined busy bob/BOB", "joined busy carol/CAROL")
	bob.mustCall(`zim.setRoomAttributes({ topic: 'survives' }, 'busy')`)
	for i := range 5 {
		carol.mustCall(fmt.Sprintf(`zim.sendRoomMessage({ type: 1, message: 'm%d' }, 'busy')`, i))
	}
	time.Sleep(time.Second) // the room's copy is written within 200 ms of a change

	lb.point(nodes[1])
	start := time.Now()
	nodes[0].kill(t)
	bob.waitEventsWithin(20*time.Second, "left busy alice", "joined busy alice/ALICE")
	carol.waitEventsWithin(20*time.Second, "left busy alice", "joined busy alice/ALICE")
	t.Logf("bob and carol saw alice leave and come back %s after node1 was killed", time.Since(start).Round(100*time.Millisecond))

	members := func(p *page) string {
		return p.mustCall(`zim.queryRoomMemberList('busy', { count: 10, nextFlag: '' }).then((r) => r.memberList.map((m) => m.userID).sort())`)
	}
	require.Eventually(t, func() bool { return strings.Contains(alice.call(`Promise.resolve(zim.getRooms())`), "busy") }, 20*time.Second, 100*time.Millisecond)
	for _, p := range []*page{alice, bob, carol} {
		assert.Equal(t, `["alice","bob","carol"]`, members(p))
		assert.JSONEq(t, `{"roomID":"busy","roomAttributes":{"topic":"survives"}}`, p.mustCall(`zim.queryRoomAllAttributes('busy')`))
		assert.Contains(t, p.mustCall(`zim.queryHistoryRoomMessage('busy', { count: 10 })`), `"m4"`, "the last message is in the history")
	}
	bob.mustCall(`zim.sendRoomMessage({ type: 1, message: 'still here' }, 'busy')`)
	for _, p := range []*page{alice, carol} {
		require.Eventually(t, func() bool {
			return evalAs[int](p, `received.filter((m) => m.message === 'still here').length`) == 1
		}, 10*time.Second, 20*time.Millisecond)
	}
}

// The node keeping an app's calls is killed while an invitation from a
// user on node 2 rings the callee's tabs on nodes 2 and 3: another node
// takes the calls over from their copy, and the invitation still rings
// out on time, on both tabs and for the inviter, once.
func TestCallsOfAKilledNodeGoOn(t *testing.T) {
	nodes := startCluster(t, 3)
	eve := openURL(t, nodes[0].url())
	dan, cat2, cat3 := openURL(t, nodes[1].url()), openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	eve.nodeKit("eve")
	// node1 keeps the app's calls: it serves the app's first call operation.
	assert.Contains(t, eve.invite(`[{ userID: 'nobody' }]`, ""), `"userID":"nobody"`)
	dan.nodeKit("dan")
	cat2.nodeKit("cat")
	cat3.nodeKit("cat")
	dan.invite(`[{ userID: 'cat' }]`, "timeout: 8")
	cat2.waitText(`[data-testid=incoming-call]`, "calling you")
	cat3.waitText(`[data-testid=incoming-call]`, "calling you")
	time.Sleep(time.Second) // the calls' copy is written within 200 ms of a change

	start := time.Now()
	nodes[0].kill(t)
	dan.waitEv("timeout cat")
	cat2.waitEv("incoming dan", "ended Timeout")
	cat3.waitEv("incoming dan", "ended Timeout")
	assert.False(t, cat2.visible("incoming-call"))
	assert.False(t, cat3.visible("incoming-call"))
	t.Logf("the invitation rang out %s after the calls node was killed (8 s timeout)", time.Since(start).Round(100*time.Millisecond))
	time.Sleep(500 * time.Millisecond)
	assert.NotContains(t, dan.ev(), "timeout cat", "once")
}

// A call whose members are connected to different nodes: each page's
// offer goes to the room's owner, whose media server answers with its own
// addresses, so both pages send to and receive from that one node, and
// each sees and hears the other.
func TestCallMediaAcrossNodes(t *testing.T) {
	nodes := startCluster(t, 2)
	ann, ben := openURL(t, nodes[0].url()), openURL(t, nodes[1].url())
	ann.joinCall("ann", "xnode", "")
	ben.joinCall("ben", "xnode", "")
	for _, p := range []*page{ann, ben} {
		p.waitMembers("ann", "ben")
		p.waitTransport("sfu")
	}
	ann.waitVideo("ben")
	ben.waitVideo("ann")
	ann.waitAudio("ben")
	ben.waitAudio("ann")
}

// mediaAfterOwnerGoes runs a call on three nodes whose room node1 owns
// (cal's page is there) while ann and ben are on nodes 2 and 3, lets
// node1 go as gone says, and checks that ann's and ben's pages make new
// media connections to the room's new owner and see and hear each other
// again; it returns how long that took.
func mediaAfterOwnerGoes(t *testing.T, room string, gone func(*node)) time.Duration {
	t.Helper()
	nodes := startCluster(t, 3)
	cal, ann, ben := openURL(t, nodes[0].url()), openURL(t, nodes[1].url()), openURL(t, nodes[2].url())
	cal.joinCall("cal", room, "") // node1 owns the room
	ann.joinCall("ann", room, "")
	ben.joinCall("ben", room, "")
	for _, p := range []*page{ann, ben} {
		p.waitMembers("ann", "ben", "cal")
		p.waitTransport("sfu")
	}
	ann.waitVideo("ben")
	ben.waitVideo("ann")
	time.Sleep(time.Second) // the room's copy is written within 200 ms of a change
	for _, p := range []*page{ann, ben} {
		p.eval(`(window.oldPC = zp._media.sfu.pc, true)`)
	}

	start := time.Now()
	gone(nodes[0])
	for _, p := range []*page{ann, ben} {
		require.Eventually(t, func() bool {
			return evalAs[bool](p, `zp._media.sfu.pc !== window.oldPC && zp._media.sfu.state === 'connected'`)
		}, 30*time.Second, 100*time.Millisecond, "no new media connection to the room's new owner")
	}
	ann.waitVideo("ben")
	ben.waitVideo("ann")
	took := time.Since(start).Round(100 * time.Millisecond)
	ann.waitAudio("ben")
	ben.waitAudio("ann")
	return took
}

// The node that owns a call's room is killed: another node takes the room
// over from its copy, tells each member that had media to start again
// (mediaRestart), and the pages, connected through the other nodes, make
// new connections to it and see each other again.
func TestCallMediaComesBackAfterTheOwnerIsKilled(t *testing.T) {
	took := mediaAfterOwnerGoes(t, "moving", func(n *node) { n.kill(t) })
	t.Logf("media came back %s after the room's owner was killed (its lease lives 5 s)", took)
}

// The node that owns a call's room stops gracefully: it hands the room to
// another node, whose media side tells the members that had media to
// start again there, and the pages connected through the other nodes see
// each other again.
func TestCallMediaMovesWithAGracefulStop(t *testing.T) {
	took := mediaAfterOwnerGoes(t, "handed", func(n *node) { n.stop(t, 15*time.Second) })
	t.Logf("media came back %s after node1 was told to stop", took)
}
