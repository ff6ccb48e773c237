package e2e

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateAPIRef = flag.Bool("update-api", false, "rewrite js/API.md from js/roomkit.d.ts")

// apiSection is one part of the API reference: a declaration of the d.ts,
// and the JS source (file, and the text that starts its region) whose doc
// comments describe members the d.ts leaves without one.
type apiSection struct {
	title, decl   string // heading, and the d.ts line that opens the block
	intro         string
	file, region  string // where the implementation's doc comments are
	mustDescribe  bool   // every member needs a description
	memberPrefix  string // how a call is written in the heading, e.g. "zim."
	eventsOfBlock bool   // members are events: name: payload
}

var apiSections = []apiSection{
	{title: "RoomKit", decl: "export declare const RoomKit: Readonly<{", file: "roomkit.js", region: "export const RoomKit = Object.freeze({", mustDescribe: true, memberPrefix: "RoomKit.",
		intro: "The module's entry points: `import { RoomKit } from 'roomkit'`."},
	{title: "InitOptions", decl: "export interface InitOptions {", intro: "`RoomKit.init(options)`."},
	{title: "LoginOptions", decl: "export interface LoginOptions {", intro: "`RoomKit.login(options)`."},
	{title: "RoomKitClient", decl: "export declare class RoomKitClient {", file: "roomkit.js", region: "export class RoomKitClient", mustDescribe: true, memberPrefix: "zim.",
		intro: "The room client `RoomKit.login` resolves with (the room-messaging SDK's `zim`). Every operation returns a Promise that rejects with an `Error` carrying a numeric `code`."},
	{title: "RoomKitClient events", decl: "export interface RoomKitEvents {", eventsOfBlock: true,
		intro: "`zim.on(event, (zim, data) => ...)`: each event and its data."},
	{title: "CallKit", decl: "export interface CallKit {", file: "callkit.js", region: "return class CallKit {", mustDescribe: true, memberPrefix: "zp.",
		intro: "The prebuilt call kit `RoomKit.create(kitToken)` makes (the call kit's `zp`)."},
	{title: "CallJoinConfig", decl: "export interface CallJoinConfig {", intro: "`zp.joinRoom(config)`."},
	{title: "CallInvitationConfig", decl: "export interface CallInvitationConfig {", intro: "`zp.setCallInvitationConfig(config)`."},
	{title: "SessionClient", decl: "export interface SessionClient {", file: "session.js", region: "class SessionClient {", mustDescribe: true, memberPrefix: "client.",
		intro: "The session client `RoomKit.createClient()` makes (the video SDK's `client`)."},
	{title: "SessionClient events", decl: "export interface SessionEvents {", eventsOfBlock: true,
		intro: "`client.on(event, (payload) => ...)`: each event and its payload."},
	{title: "SessionMediaStream", decl: "export interface SessionMediaStream {", file: "session.js", region: "class MediaStream {", mustDescribe: true, memberPrefix: "stream.",
		intro: "`client.getMediaStream()`: the session's audio and video (through the server's media server) and the published share state."},
}

// apiMember is one member of a declaration block.
type apiMember struct {
	name, sig, doc string
}

var memberName = regexp.MustCompile(`^(?:readonly\s+)?(?:get\s+)?['"]?([A-Za-z_][\w-]*)['"]?\??\s*[(:<]`)

// declBlock returns the members of the block the line decl opens, each
// with its doc comment (joined into one paragraph).
func declBlock(t *testing.T, dts, decl string) []apiMember {
	t.Helper()
	i := strings.Index(dts, "\n"+decl+"\n")
	require.GreaterOrEqual(t, i, 0, "roomkit.d.ts declares %q", decl)
	var out []apiMember
	var doc []string
	inDoc := false
	for _, line := range strings.Split(dts[i+len(decl)+2:], "\n") {
		if line == "}" || line == "}>;" {
			break
		}
		l := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(l, "/**"):
			doc = nil
			inDoc = !strings.HasSuffix(l, "*/")
			doc = append(doc, strings.TrimSuffix(strings.TrimPrefix(l, "/**"), "*/"))
		case inDoc:
			inDoc = !strings.HasSuffix(l, "*/")
			doc = append(doc, strings.TrimPrefix(strings.TrimSuffix(l, "*/"), "*"))
		case l == "" || strings.HasPrefix(l, "//") || strings.HasPrefix(l, "["):
		default:
			m := memberName.FindStringSubmatch(l)
			require.NotNil(t, m, "a member of %q that the reference cannot read: %s", decl, l)
			sig := strings.TrimSuffix(l, ";")
			if rest, ok := strings.CutPrefix(sig, "readonly "); ok {
				sig = rest + " (read-only)"
			}
			out = append(out, apiMember{name: m[1], sig: sig, doc: joinDoc(doc)})
			doc = nil
		}
	}
	return out
}

func joinDoc(lines []string) string {
	var words []string
	for _, l := range lines {
		words = append(words, strings.Fields(l)...)
	}
	return strings.Join(words, " ")
}

var jsDocThenMember = regexp.MustCompile(`(?s)/\*\*((?:[^*]|\*[^/])*)\*/\s*\n\s*(?:async\s+)?(?:get\s+)?([A-Za-z_]\w*)\s*[(:]`)

// sourceDocs returns the doc comment of each method or property in the
// region of a JS file that starts at region (up to the next region of the
// same indentation's closing, taken as the end of the file or of the class).
func sourceDocs(t *testing.T, file, region string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "js", file))
	require.NoError(t, err)
	src := string(raw)
	i := strings.Index(src, region)
	require.GreaterOrEqual(t, i, 0, "%s has %q", file, region)
	src = src[i:]
	// The region ends where the next top-level or class-level definition starts.
	for _, end := range []string{"\nconst KIT_PREFIX", "\n  class ", "\n  return {"} {
		if j := strings.Index(src[1:], end); j >= 0 {
			src = src[:j+1]
		}
	}
	docs := map[string]string{}
	for _, m := range jsDocThenMember.FindAllStringSubmatch(src, -1) {
		if _, seen := docs[m[2]]; !seen {
			var lines []string
			for _, l := range strings.Split(m[1], "\n") {
				lines = append(lines, strings.TrimPrefix(strings.TrimSpace(l), "*"))
			}
			docs[m[2]] = joinDoc(lines)
		}
	}
	return docs
}

// apiReference renders js/API.md from the d.ts (signatures, and their doc
// comments) and the sources' doc comments where the d.ts has none.
func apiReference(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "js", "roomkit.d.ts"))
	require.NoError(t, err)
	dts := string(raw)
	var b strings.Builder
	b.WriteString("# roomkit API reference\n\n")
	b.WriteString("Generated from `js/roomkit.d.ts` (signatures and their doc comments) and\n")
	b.WriteString("the doc comments of the code that implements them, by\n")
	b.WriteString("`go test ./e2e -run TestAPIReference -update-api`; `make test` fails when it\n")
	b.WriteString("is out of date. Types not expanded here are in `roomkit.d.ts`. Error codes\n")
	b.WriteString("are in the README and `server/protocol/PROTOCOL.md`.\n\n")
	b.WriteString("Contents:")
	for i, sec := range apiSections {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s [%s](#%s)", sep, sec.title, strings.ReplaceAll(strings.ToLower(sec.title), " ", "-"))
	}
	b.WriteString(".\n")
	for _, sec := range apiSections {
		members := declBlock(t, dts, sec.decl)
		var docs map[string]string
		if sec.file != "" {
			docs = sourceDocs(t, sec.file, sec.region)
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", sec.title, sec.intro)
		for _, m := range members {
			doc := m.doc
			if doc == "" {
				doc = docs[m.name]
			}
			if sec.mustDescribe {
				assert.NotEmpty(t, doc, "%s%s has no doc comment in roomkit.d.ts or %s", sec.memberPrefix, m.name, sec.file)
			}
			if sec.eventsOfBlock {
				fmt.Fprintf(&b, "- `%s`", m.sig)
			} else {
				fmt.Fprintf(&b, "- `%s%s`", sec.memberPrefix, m.sig)
			}
			if doc != "" {
				fmt.Fprintf(&b, "  \n  %s", doc)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// js/API.md is what the d.ts and the code's doc comments say, and every
// method of the entry points and the clients is described.
func TestAPIReference(t *testing.T) {
	t.Parallel()
	got := apiReference(t)
	name := filepath.Join("..", "js", "API.md")
	if *updateAPIRef {
		require.NoError(t, os.WriteFile(name, []byte(got), 0o644))
	}
	want, err := os.ReadFile(name)
	require.NoError(t, err, "make it with go test ./e2e -run TestAPIReference -update-api")
	assert.Equal(t, string(want), got, "js/API.md is out of date: go test ./e2e -run TestAPIReference -update-api")
}
