package sha256

import (
	"crypto/hmac"
	stdsha256 "crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKnownDigests(t *testing.T) {
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	} {
		sum := Sum256([]byte(in))
		require.Equal(t, want, hex.EncodeToString(sum[:]), "SHA-256 of %q", in)
	}
}

// TestMatchesTheStandardLibrary compares with crypto/sha256 and crypto/hmac
// at every length around the block and padding boundaries, with keys
// shorter and longer than a block.
func TestMatchesTheStandardLibrary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(r.Uint32())
		}
		require.Equal(t, stdsha256.Sum256(msg), Sum256(msg), "length %d", n)
		if n > 1 {
			require.Equal(t, stdsha256.Sum256(msg), Sum256(msg[:n/2], msg[n/2:]), "length %d in two parts", n)
		}
		key := msg[:n%130]
		mac := hmac.New(stdsha256.New, key)
		mac.Write(msg)
		got := HMAC(key, msg)
		require.Equal(t, mac.Sum(nil), got[:], "HMAC, key %d bytes, message %d", len(key), n)
	}
}
