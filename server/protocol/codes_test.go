package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The error table lives in codes.go, PROTOCOL.md, js/roomkit.js and
// js/roomkit.d.ts; this keeps them in step.
func TestErrorTablesAgree(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	require.NoError(t, err)
	read := func(p string) string {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return string(b)
	}
	doc, js, dts := read("PROTOCOL.md"), read("../../js/roomkit.js"), read("../../js/roomkit.d.ts")
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		name := strings.TrimPrefix(vs.Names[0].Name, "Code")
		n++
		assert.Truef(t, strings.Contains(doc, "| "+lit.Value+" | "+name+" |"), "PROTOCOL.md lacks %s %s", lit.Value, name)
		assert.Truef(t, strings.Contains(js, name+": "+lit.Value+","), "js/roomkit.js lacks %s: %s", name, lit.Value)
		assert.Truef(t, strings.Contains(dts, name+": "+lit.Value+";"), "js/roomkit.d.ts lacks %s: %s", name, lit.Value)
		return true
	})
	assert.Greater(t, n, 20)
}
