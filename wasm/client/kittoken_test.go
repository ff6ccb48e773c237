package client

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

func TestKitTokenRoundTrip(t *testing.T) {
	k := KitToken{AppID: json.RawMessage(`1234`), Token: "a.b.c", RoomID: "r<1>", UserID: "ann", UserName: "Ann ✓"}
	s, err := k.Encode()
	require.NoError(t, err)
	got, err := ParseKitToken(s)
	require.NoError(t, err)
	assert.Equal(t, k, got)

	for in, msg := range map[string]string{
		"x":                    "not a kit token",
		"rk1.@@@":              "does not decode",
		"rk1.not-base64!":      "does not decode",
		"rk1.e30":              "missing its token or userID", // {}
		"rk1.eyJ0b2tlbiI6MX0":  "missing its token or userID", // {"token":1}
		"rk1.eyJ0b2tlbiI6ImEi": "does not decode",             // {"token":"a"
	} {
		_, err := ParseKitToken(in)
		var pe *protocol.Error
		require.ErrorAs(t, err, &pe, in)
		assert.Equal(t, protocol.CodeInvalidParameter, pe.Code, in)
		assert.Contains(t, pe.Message, msg, in)
	}
	_, err = KitToken{Token: "not-a-jwt", UserID: "u"}.Encode()
	assert.ErrorContains(t, err, "JWT")
	_, err = KitToken{Token: "a.b.c"}.Encode()
	assert.ErrorContains(t, err, "userID")
}

// FuzzParseKitToken: no string panics the parser; what it accepts it can
// encode again, to a token that reads back the same.
func FuzzParseKitToken(f *testing.F) {
	good, _ := KitToken{AppID: json.RawMessage(`"app"`), Token: "a.b.c", UserID: "u"}.Encode()
	for _, s := range []string{good, good + "==", "rk1.", "rk1.e30", "rk1.@@@", "", "rk1.eyJ0b2tlbiI6MX0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKitToken(s)
		if err != nil {
			return
		}
		again, err := k.Encode()
		if err != nil {
			return // a parsed token need not be a well-formed one (its token may not be a JWT)
		}
		k2, err := ParseKitToken(again)
		if err != nil || k2.Token != k.Token || k2.UserID != k.UserID || k2.RoomID != k.RoomID || k2.UserName != k.UserName {
			t.Fatalf("%q parsed as %+v, which encodes to %q, which reads back as %+v (%v)", s, k, again, k2, err)
		}
	})
}
