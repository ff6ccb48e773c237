package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
)

func TestTokenCommand(t *testing.T) {
	secret := "0123456789abcdef0123"
	var out strings.Builder
	env := func(k string) string {
		if k == "ROOMKIT_APPS" {
			return "7=" + secret
		}
		return ""
	}
	require.NoError(t, run([]string{"token", "-app", "7", "-user", "ann", "-room", "r1", "-role", "host"}, &out, env))
	c, err := auth.NewVerifier(map[string]string{"7": secret}, nil).Verify(strings.TrimSpace(out.String()))
	require.Nil(t, err)
	assert.Equal(t, "ann", c.UserID)
	assert.Equal(t, "r1", c.Room)
	assert.Equal(t, auth.RoleHost, c.Role)

	assert.ErrorContains(t, run([]string{"token", "-app", "8", "-user", "ann"}, &out, env), "no secret")
	assert.ErrorContains(t, run([]string{"token", "-app", "7", "-user", "ann", "-ttl", "49h"}, &out, env), "at most 48h")
	assert.ErrorContains(t, run([]string{"token", "-app", "7", "-user", "ann", "-role", "boss"}, &out, env), "host or participant")
	assert.ErrorContains(t, run([]string{"nope"}, &out, env), "unknown command")
}
