package provision

import (
	"crypto/rand"
	"math/big"
)

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// GeneratePassword returns a random password of n characters from an
// alphabet without look-alike characters.
func GeneratePassword(n int) string {
	return randomFrom(passwordAlphabet, n)
}

// GeneratePIN returns a random numeric PIN of n digits.
func GeneratePIN(n int) string {
	return randomFrom("0123456789", n)
}

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}
