//go:build !js

package client

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
)

func TestMintTestTokenVerifiesOnTheServer(t *testing.T) {
	now := time.Now()
	tok := MintTestToken("s3cret-s3cret-s3cret", TestTokenClaims{AppID: "5", UserID: "ann", UserName: "Ann", Room: "r", Role: 1}, now, time.Hour)
	c, err := auth.NewVerifier(map[string]string{"5": "s3cret-s3cret-s3cret"}, nil).Verify(tok)
	require.Nil(t, err)
	assert.Equal(t, "ann", c.UserID)
	assert.Equal(t, "Ann", c.UserName)
	assert.Equal(t, "r", c.Room)
	assert.Equal(t, auth.RoleHost, c.Role)
	assert.Equal(t, now.Add(time.Hour).Unix(), c.ExpiresAt.Unix())

	_, err = auth.NewVerifier(map[string]string{"5": "other-other-other"}, nil).Verify(tok)
	require.NotNil(t, err)
}
