// Package secret seals the secrets siemsync stores (HEC tokens, TLS client
// keys) with AES-256-GCM, so that a copy of the database alone does not give
// them away.
//
// The key comes from SIEMSYNC_SECRET_KEY when it is set, or else from a key
// file beside the database that is created on first use. Either way the
// operator needs no setup step; keeping the key away from database backups
// is what makes the encryption worth having.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// version is the first byte of every sealed value. A future key rotation or
// algorithm change bumps it, so old values can still be told apart.
const version byte = 1

// ErrWrongKey is returned by Open when a sealed value does not authenticate:
// it was sealed with another key, or it was damaged.
var ErrWrongKey = errors.New("secret does not decrypt with this key")

// Cipher seals and opens values with one AES-256-GCM key. A sealed value is
// version byte || 12-byte random nonce || ciphertext and tag. It is safe for
// concurrent use.
type Cipher struct {
	aead   cipher.AEAD
	source string // where the key came from, for error messages
}

// New returns a Cipher for a 32-byte key. source says where the key came
// from ("SIEMSYNC_SECRET_KEY", "key file /var/lib/siemsync.db.key") and
// appears in errors so an operator knows which key to check.
func New(key []byte, source string) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("create cipher: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("create cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("create cipher: %w", err)
	}
	return &Cipher{aead: aead, source: source}, nil
}

// Source says where the key came from.
func (c *Cipher) Source() string { return c.source }

// Seal encrypts plaintext under a fresh random nonce.
func (c *Cipher) Seal(plaintext []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+c.aead.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal secret: read nonce: %w", err)
	}
	// The version byte is authenticated too, so it cannot be swapped.
	return c.aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// Open decrypts a value made by Seal. A value sealed with another key, or
// altered in any byte, fails with an error wrapping ErrWrongKey.
func (c *Cipher) Open(sealed []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	if len(sealed) < 1+ns+c.aead.Overhead() {
		return nil, fmt.Errorf("open secret: value is %d bytes, too short to be sealed", len(sealed))
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("open secret: unknown format version %d", sealed[0])
	}
	pt, err := c.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, fmt.Errorf("open secret: %w (key from %s: was it changed since the secret was stored?)", ErrWrongKey, c.source)
	}
	return pt, nil
}
