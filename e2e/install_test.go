package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The install path, as a fresh machine walks it: every target the README
// names, dry-run (make -n -B, so nothing is taken as already built) with an
// empty HOME, runs no tool from a folder that no earlier line fills, and no
// Debian tool before the line that installs it when it is missing. A rule
// whose prerequisite names a variable defined further down, as a Makefile
// once did, is caught here: the tool's line comes before its install.
func TestEveryTargetInstallsWhatItRuns(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"test", "run", "e2e", "package", "bench", "build"} {
		t.Run(target, func(t *testing.T) {
			home := t.TempDir()
			dry := dryRun(t, home, "", target)
			assert.Empty(t, checkInstallPath(dry, home), "make %s on a machine with an empty HOME", target)
		})
	}
}

// The check fails on the mistakes it is there for: the npm tools' variables
// defined after the rule that names them (tsc runs before its install), and
// the compressors' install step left out (brotli runs with nothing before it
// to install it).
func TestInstallPathCheckCatchesAMissingStep(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "Makefile"))
	require.NoError(t, err)
	makefile := string(raw)

	block := regexp.MustCompile(`(?ms)^CACHEDIR \?=.*?^ESBUILD +:=[^\n]*\n`).FindString(makefile)
	require.NotEmpty(t, block, "the Makefile defines the tools' folder (CACHEDIR .. ESBUILD)")
	late := strings.Replace(makefile, block, "", 1)
	rule := regexp.MustCompile(`(?m)^typecheck:[^\n]*\n\t[^\n]*\n`).FindString(late)
	require.NotEmpty(t, rule, "the Makefile has a typecheck rule")
	late = strings.Replace(late, rule, rule+"\n"+block, 1)

	noCompressors := strings.ReplaceAll(makefile, "| compressors", "")
	require.NotEqual(t, makefile, noCompressors, "the compressed copies name compressors as a prerequisite")

	for name, tc := range map[string]struct{ makefile, missing string }{
		"variables defined late": {late, "/node_modules/.bin/tsc"},
		"no compressors step":    {noCompressors, "brotli"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "Makefile")
			require.NoError(t, os.WriteFile(bad, []byte(tc.makefile), 0o644))
			home := t.TempDir()
			found := checkInstallPath(dryRun(t, home, bad, "test"), home)
			require.NotEmpty(t, found, "the check finds the missing step")
			assert.Contains(t, strings.Join(found, "\n"), tc.missing)
		})
	}
}

// dryRun prints what `make target` would run from the repository's root
// with HOME set to home, makefile ("" for the repository's own) read.
func dryRun(t *testing.T, home, makefile, target string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	args := []string{"-n", "-B", "--no-print-directory", "-C", root}
	if makefile != "" {
		args = append(args, "-f", makefile)
	}
	cmd := exec.Command("make", append(args, target)...)
	env := []string{"HOME=" + home}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "HOME", "ROOMKIT_CACHE", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "NPMTOOLS", "CACHEDIR":
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.Output()
	require.NoError(t, err, "make -n %s", target)
	return string(out)
}

// debianTools are the commands the Makefile installs with apt-get when they
// are missing, each recognised by a `command -v TOOL` guard on its install
// line; goTestNeeds are those the Go tests run, by the packages they test.
var (
	debianTools = []string{"brotli", "zstd", "chromium", "redis-server", "node", "npm"}
	goTestNeeds = map[string][]string{
		"./...":        {"chromium", "redis-server", "node", "npm"},
		"./e2e/...":    {"chromium", "redis-server", "node", "npm"},
		"./bridge/...": {"node"},
	}
	quoted    = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	separator = regexp.MustCompile(`&&|\|\||[;|{}()]`)
)

// checkInstallPath reads a dry run's lines in order and returns each
// command that runs a tool before any line installs it: a path under home
// with no earlier `--prefix`, `-o` or `mkdir -p` of a folder holding it, a
// Debian tool with no earlier install line guarding it, or a `go test`
// whose tests run a Debian tool not yet installed.
func checkInstallPath(dry, home string) []string {
	var found, filled []string
	installed := map[string]bool{}
	covered := func(path string) bool {
		for _, f := range filled {
			if path == f || strings.HasPrefix(path, strings.TrimSuffix(f, "/")+"/") {
				return true
			}
		}
		return false
	}
	for _, line := range strings.Split(strings.ReplaceAll(dry, "\\\n", " "), "\n") {
		words := strings.Fields(line)
		for _, cmd := range separator.Split(quoted.ReplaceAllString(line, "Q"), -1) {
			fields := strings.Fields(cmd)
			for len(fields) > 0 && (strings.Contains(fields[0], "=") || fields[0] == "!" || fields[0] == "if" || fields[0] == "then") {
				fields = fields[1:]
			}
			if len(fields) == 0 {
				continue
			}
			tool := fields[0]
			switch {
			case strings.HasPrefix(tool, home) && !covered(tool):
				found = append(found, strings.Replace(tool, home, "$HOME", 1)+" runs before anything installs it: "+strings.TrimSpace(cmd))
			case slices.Contains(debianTools, tool) && !installed[tool]:
				found = append(found, tool+" runs before the line that installs it: "+strings.TrimSpace(cmd))
			case tool == "go" && len(fields) > 1 && fields[1] == "test":
				for _, pkg := range fields[2:] {
					for _, need := range goTestNeeds[pkg] {
						if !installed[need] {
							found = append(found, "go test "+pkg+" needs "+need+" before the line that installs it")
						}
					}
				}
			}
		}
		// What this line makes available to the lines after it.
		if strings.Contains(line, "apt-get install") {
			for i, w := range words {
				if w == "-v" && i > 0 && words[i-1] == "command" && i+1 < len(words) {
					installed[words[i+1]] = true
				}
			}
		}
		for i, w := range words {
			if (w == "--prefix" || w == "-o" || w == "-p") && i+1 < len(words) && strings.HasPrefix(words[i+1], home) {
				filled = append(filled, words[i+1])
			}
		}
	}
	return found
}
