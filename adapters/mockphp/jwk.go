package mockphp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Client is a SMART Backend Services client registered with the server.
type Client struct {
	// ID is the client_id, which the assertion carries as iss and sub.
	ID string
	// JWKS is the client's public key set as JSON ({"keys":[…]}), with RSA
	// keys for RS384 and EC P-384 keys for ES384, as a client registers it
	// with a real EHR.
	JWKS []byte
	// Scopes limits what the client may ask for, such as
	// "system/*.read" or "system/DocumentReference.rs". Empty allows any.
	Scopes []string
}

// jwk is one public key of a client.
type jwk struct {
	kid string
	alg string // what the key may verify: RS384 or ES384
	key crypto.PublicKey
}

type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

func parseJWKS(b []byte) ([]jwk, error) {
	var set struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var out []jwk
	for i, k := range set.Keys {
		pk, alg, err := k.publicKey()
		if err != nil {
			return nil, fmt.Errorf("jwks key %d (%q): %w", i, k.Kid, err)
		}
		out = append(out, jwk{kid: k.Kid, alg: alg, key: pk})
	}
	if len(out) == 0 {
		return nil, errors.New("jwks has no keys")
	}
	return out, nil
}

func b64big(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, err
	}
	return new(big.Int).SetBytes(b), nil
}

func (k jwkJSON) publicKey() (crypto.PublicKey, string, error) {
	switch k.Kty {
	case "RSA":
		n, err1 := b64big(k.N)
		e, err2 := b64big(k.E)
		if err := errors.Join(err1, err2); err != nil || n.Sign() == 0 || !e.IsInt64() {
			return nil, "", fmt.Errorf("bad rsa key: %v", err)
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, "RS384", nil
	case "EC":
		if k.Crv != "P-384" {
			return nil, "", fmt.Errorf("curve %q: ES384 needs P-384", k.Crv)
		}
		x, err1 := b64big(k.X)
		y, err2 := b64big(k.Y)
		if err := errors.Join(err1, err2); err != nil {
			return nil, "", fmt.Errorf("bad ec key: %w", err)
		}
		// The uncompressed point: 0x04, then X and Y of 48 bytes each.
		point := append([]byte{4}, x.FillBytes(make([]byte, 48))...)
		point = append(point, y.FillBytes(make([]byte, 48))...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), point)
		if err != nil {
			return nil, "", fmt.Errorf("ec point not on curve: %w", err)
		}
		return pub, "ES384", nil
	}
	return nil, "", fmt.Errorf("key type %q is not supported", k.Kty)
}

// verifyJWS checks a compact JWS signature (RS384 or ES384) over signingInput.
func verifyJWS(alg string, key crypto.PublicKey, signingInput string, sig []byte) error {
	h := sha512.Sum384([]byte(signingInput))
	switch alg {
	case "RS384":
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return errors.New("RS384 needs an RSA key")
		}
		return rsa.VerifyPKCS1v15(pub, crypto.SHA384, h[:], sig)
	case "ES384":
		pub, ok := key.(*ecdsa.PublicKey)
		if !ok || len(sig) != 96 {
			return errors.New("ES384 needs a P-384 key and a 96-byte signature")
		}
		r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
		if !ecdsa.Verify(pub, h[:], r, s) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("alg %q is not supported", alg)
}

// ClientKey is a client's key pair, for tests, demos and the standalone
// runner: it publishes the JWKS to register and signs the assertions a
// SMART Backend Services client sends.
type ClientKey struct {
	Kid     string
	Alg     string // ES384 or RS384
	Private crypto.Signer
}

// NewClientKey generates a key pair for alg "ES384" (P-384) or "RS384"
// (RSA 2048).
func NewClientKey(alg string) (*ClientKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "RS384":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("mockphp: alg %q is not supported", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("mockphp: generate key: %w", err)
	}
	k := &ClientKey{Alg: alg, Private: priv}
	der, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("mockphp: key id: %w", err)
	}
	sum := sha256.Sum256(der)
	k.Kid = base64.RawURLEncoding.EncodeToString(sum[:12])
	return k, nil
}

// JWKS returns the public key set to register as Client.JWKS.
func (k *ClientKey) JWKS() []byte {
	j := jwkJSON{Kid: k.Kid, Alg: k.Alg, Use: "sig"}
	enc := base64.RawURLEncoding
	switch pub := k.Private.Public().(type) {
	case *ecdsa.PublicKey:
		j.Kty, j.Crv = "EC", "P-384"
		var buf [97]byte
		b, _ := pub.ECDH()
		copy(buf[:], b.Bytes())
		j.X, j.Y = enc.EncodeToString(buf[1:49]), enc.EncodeToString(buf[49:97])
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = enc.EncodeToString(pub.N.Bytes())
		j.E = enc.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	}
	b, _ := json.Marshal(struct {
		Keys []jwkJSON `json:"keys"`
	}{[]jwkJSON{j}})
	return b
}

// PrivatePEM returns the private key as a PKCS #8 PEM block.
func (k *ClientKey) PrivatePEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("mockphp: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Assertion is the claim set of a client assertion; Sign fills the usual
// values for zero fields.
type Assertion struct {
	ClientID string
	TokenURL string
	JTI      string        // empty: a random one
	Expiry   time.Duration // lifetime from now (zero: 4 minutes)
	Now      time.Time     // zero: time.Now()
}

// Sign returns a compact JWS client assertion as SMART Backend Services
// asks for: iss and sub the client id, aud the token URL, a fresh jti and
// an exp no more than five minutes ahead.
func (k *ClientKey) Sign(a Assertion) (string, error) {
	now := a.Now
	if now.IsZero() {
		now = time.Now()
	}
	if a.Expiry == 0 {
		a.Expiry = 4 * time.Minute
	}
	if a.JTI == "" {
		a.JTI = newUUID()
	}
	header, _ := json.Marshal(map[string]string{"alg": k.Alg, "kid": k.Kid, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": a.ClientID, "sub": a.ClientID, "aud": a.TokenURL,
		"exp": now.Add(a.Expiry).Unix(), "iat": now.Unix(), "jti": a.JTI,
	})
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	h := sha512.Sum384([]byte(input))
	var sig []byte
	switch priv := k.Private.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
		if err != nil {
			return "", fmt.Errorf("mockphp: sign: %w", err)
		}
		sig = make([]byte, 96)
		r.FillBytes(sig[:48])
		s.FillBytes(sig[48:])
	case *rsa.PrivateKey:
		var err error
		sig, err = rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA384, h[:])
		if err != nil {
			return "", fmt.Errorf("mockphp: sign: %w", err)
		}
	default:
		return "", errors.New("mockphp: unsupported private key")
	}
	return input + "." + enc.EncodeToString(sig), nil
}
