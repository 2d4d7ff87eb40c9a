package provision

import "crypto/rand"

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

// randomFrom draws n characters of alphabet (at most 256) uniformly:
// random bytes below the largest multiple of its length, one read of
// crypto/rand for the lot (and more when too many were rejected).
func randomFrom(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic(err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
