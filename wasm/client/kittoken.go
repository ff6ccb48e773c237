package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"roomkit/server/protocol"
)

// KitTokenPrefix starts every kit token.
const KitTokenPrefix = "rk1."

// KitToken is what a call kit's token carries: the JWT to log in with,
// and the user and room the call kit shows. A kit token is KitTokenPrefix
// followed by the base64url (unpadded) JSON of this struct.
type KitToken struct {
	AppID    json.RawMessage `json:"appID,omitempty"` // as the app gave it: a number or a string
	Token    string          `json:"token"`
	RoomID   string          `json:"roomID"`
	UserID   string          `json:"userID"`
	UserName string          `json:"userName"`
}

// Encode makes the kit token. It refuses a token that is not a JWT or an
// empty user ID, with CodeInvalidParameter.
func (k KitToken) Encode() (string, error) {
	if strings.Count(k.Token, ".") != 2 {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "token must be a JWT minted by your app server")
	}
	if k.UserID == "" {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "userID must be a non-empty string")
	}
	b, err := protocol.Marshal(k)
	if err != nil {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "appID must be a number or a string")
	}
	return KitTokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseKitToken reads a kit token. Whatever s is, it returns the token or
// a CodeInvalidParameter error saying what is wrong with it.
func ParseKitToken(s string) (KitToken, error) {
	var k KitToken
	rest, ok := strings.CutPrefix(s, KitTokenPrefix)
	if !ok {
		return k, protocol.Errorf(protocol.CodeInvalidParameter, "not a kit token: make one with generateKitTokenForTest or generateKitTokenForProduction")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	var wrongType *json.UnmarshalTypeError
	switch {
	case err != nil && !errors.As(err, &wrongType):
		return KitToken{}, protocol.Errorf(protocol.CodeInvalidParameter, "the kit token is damaged: it does not decode")
	case err != nil || k.Token == "" || k.UserID == "":
		return KitToken{}, protocol.Errorf(protocol.CodeInvalidParameter, "the kit token is missing its token or userID")
	}
	return k, nil
}
