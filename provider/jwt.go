package provider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
)

// The two signing algorithms SMART Backend Services requires servers to
// support.
const (
	RS384 = "RS384"
	ES384 = "ES384"
)

// signingAlg returns the JWS algorithm for key: RS384 for RSA keys, ES384
// for P-384 ECDSA keys.
func signingAlg(key crypto.Signer) (string, error) {
	switch k := key.Public().(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("rsa key of %d bits: want at least 2048", k.N.BitLen())
		}
		return RS384, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P384() {
			return "", fmt.Errorf("ecdsa key on %s: ES384 needs P-384", k.Curve.Params().Name)
		}
		return ES384, nil
	}
	return "", fmt.Errorf("unsupported key type %T: want RSA or ECDSA P-384", key.Public())
}

// signJWT returns the compact JWS of claims signed with key (RS384 or
// ES384, by key type).
func signJWT(key crypto.Signer, header map[string]string, claims any) (string, error) {
	alg, err := signingAlg(key)
	if err != nil {
		return "", err
	}
	h := map[string]string{"typ": "JWT", "alg": alg}
	for k, v := range header {
		if v != "" {
			h[k] = v
		}
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hj) + "." + enc.EncodeToString(cj)
	digest := sha512.Sum384([]byte(input))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA384)
	if err != nil {
		return "", fmt.Errorf("sign jwt: %w", err)
	}
	if alg == ES384 {
		// crypto.Signer gives ASN.1 DER; JWS wants r||s, 48 bytes each.
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			return "", fmt.Errorf("sign jwt: ecdsa signature: %w", err)
		}
		out := make([]byte, 96)
		rs.R.FillBytes(out[:48])
		rs.S.FillBytes(out[48:])
		sig = out
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// ParsePrivateKey parses a PEM private key: PKCS #8 ("PRIVATE KEY"),
// PKCS #1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY").
func ParsePrivateKey(pemData []byte) (crypto.Signer, error) {
	for {
		var blk *pem.Block
		blk, pemData = pem.Decode(pemData)
		if blk == nil {
			return nil, errors.New("no private key in pem data")
		}
		var key any
		var err error
		switch blk.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(blk.Bytes)
		default:
			continue // parameters, certificates
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", blk.Type, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key %T", key)
		}
		if _, err := signingAlg(s); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// LoadPrivateKey reads a PEM private key file; see ParsePrivateKey.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	return key, nil
}
