package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dtsOptions is the option names of interface name in js/roomkit.d.ts.
func dtsOptions(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "js", "roomkit.d.ts"))
	require.NoError(t, err)
	src := string(raw)
	start := strings.Index(src, "export interface "+name+" {")
	require.GreaterOrEqual(t, start, 0, "no interface %s", name)
	body := src[start : start+strings.Index(src[start:], "\n}\n")]
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  (\w+)\??:`).FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	require.NotEmpty(t, names)
	return names
}

// Every joinRoom and setCallInvitationConfig option the d.ts declares is
// one the call kit handles (it has a default, and no warning), and every
// option of the hosted kit's that it does not declare is warned about
// once, by name: none is dropped silently.
func TestEveryOptionIsHandledOrWarned(t *testing.T) {
	t.Parallel()
	join, invitation := dtsOptions(t, "CallJoinConfig"), dtsOptions(t, "CallInvitationConfig")
	// Options of the hosted kit's typings (ZegoCloudRoomConfig,
	// ZegoCallInvitationConfig) roomkit does not do yet.
	notDone := []string{"screenSharingConfig", "whiteboardConfig", "showInviteToCohostButton",
		"showRemoveCohostButton", "showRequestToCohostButton", "videoCodec", "showLeaveRoomConfirmDialog", "onLiveStart",
		"onLiveEnd", "onInRoomCustomCommandReceived", "onReturnToHomeScreenClicked", "language", "leaveRoomDialogConfig"}
	notDoneInvitation := []string{"enableNotifyWhenAppRunningInBackgroundOrQuit", "language", "onTokenWillExpire"}
	mod, err := filepath.Abs(filepath.Join("..", "js", "callkit", "config.js"))
	require.NoError(t, err)
	args, err := json.Marshal(map[string][]string{"join": join, "invitation": invitation, "notDone": notDone, "notDoneInvitation": notDoneInvitation})
	require.NoError(t, err)
	script := `const c = await import(process.argv[1]);
const a = JSON.parse(process.argv[2]);
const warned = [];
console.warn = (m) => warned.push(m);
const of = (names) => Object.fromEntries(names.map((n) => [n, undefined]));
const out = {
  joinMissing: a.join.filter((n) => !(n in c.DEFAULTS) && n !== 'scenario'),
  invitationMissing: a.invitation.filter((n) => !(n in c.INVITATION_DEFAULTS)),
};
c.warnUnsupported(of(a.join)); c.warnUnsupportedInvitation(of(a.invitation));
out.handledWarned = warned.splice(0);
c.warnUnsupported(of(a.notDone)); c.warnUnsupported(of(a.notDone));
c.warnUnsupportedInvitation(of(a.notDoneInvitation));
out.warned = warned.splice(0);
console.log(JSON.stringify(out));`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outb, err := exec.CommandContext(ctx, "node", "--input-type=module", "-e", script, mod, string(args)).CombinedOutput()
	require.NoError(t, err, "%s", outb)
	var got struct {
		JoinMissing, InvitationMissing, HandledWarned, Warned []string
	}
	require.NoError(t, json.Unmarshal(outb, &got), "%s", outb)
	assert.Empty(t, got.JoinMissing, "joinRoom options in the d.ts without a default")
	assert.Empty(t, got.InvitationMissing, "invitation options in the d.ts without a default")
	assert.Empty(t, got.HandledWarned, "options the kit does are not warned about")
	var want []string
	for _, n := range notDone {
		want = append(want, "roomkit: the call kit option "+n+" is not supported yet; it is ignored")
	}
	for _, n := range notDoneInvitation {
		want = append(want, "roomkit: the call invitation option "+n+" is not supported yet; it is ignored")
	}
	assert.Equal(t, want, got.Warned, "each option not done is warned about, once")
}

// The controls a scenario takes are the hosted kit's: a 1-on-1 call has no
// Layout or Pin button and acts on no other member, a group call and a
// video conference keep what the options give, an Audience role pins
// nothing and acts on no one, a Cohost removes no one; an unknown role is
// warned about.
func TestScenarioControls(t *testing.T) {
	t.Parallel()
	mod, err := filepath.Abs(filepath.Join("..", "js", "callkit", "config.js"))
	require.NoError(t, err)
	script := `const c = await import(process.argv[1]);
const warned = [];
console.warn = (m) => warned.push(m);
const names = ['showLayoutButton', 'showPinButton', 'showTurnOffRemoteCameraButton', 'showTurnOffRemoteMicrophoneButton', 'showRemoveUserButton'];
const shown = (scenario) => { const cfg = c.withScenario({ ...c.DEFAULTS, scenario }); return names.filter((n) => cfg[n]); };
const out = {
  none: shown(undefined),
  oneOnOne: shown({ mode: 'OneONoneCall' }),
  group: shown({ mode: 'GroupCall' }),
  conference: shown({ mode: 'VideoConference', config: { role: 'Host' } }),
  audience: shown({ mode: 'VideoConference', config: { role: 'Audience' } }),
  cohost: shown({ mode: 'GroupCall', config: { role: 'Cohost' } }),
};
c.warnUnsupported({ scenario: { mode: 'GroupCall', config: { role: 'Guest' } } });
out.warned = warned;
console.log(JSON.stringify(out));`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outb, err := exec.CommandContext(ctx, "node", "--input-type=module", "-e", script, mod).CombinedOutput()
	require.NoError(t, err, "%s", outb)
	var got struct {
		None, OneOnOne, Group, Conference, Audience, Cohost, Warned []string
	}
	require.NoError(t, json.Unmarshal(outb, &got), "%s", outb)
	all := []string{"showLayoutButton", "showPinButton", "showTurnOffRemoteCameraButton", "showTurnOffRemoteMicrophoneButton", "showRemoveUserButton"}
	assert.Equal(t, all, got.None)
	assert.Empty(t, got.OneOnOne)
	assert.Equal(t, all, got.Group)
	assert.Equal(t, all, got.Conference)
	assert.Equal(t, []string{"showLayoutButton"}, got.Audience)
	assert.Equal(t, all[:4], got.Cohost)
	assert.Equal(t, []string{`roomkit: scenario.config.role "Guest" is not one of Host, Cohost, Audience; it is ignored`}, got.Warned)
}
