package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigshare/sigshare/keys"
)

// DefaultAlgorithm is the signing algorithm of generated keys when none is named: RS256,
// which the CAEP Interoperability Profile requires (CAEP-IOP §2.6, IOP-16).
const DefaultAlgorithm = "RS256"

// LoadSigningKey reads a private signing key from path: a JWK (a file whose first
// non-space byte is "{") or PEM (PKCS#8, PKCS#1 or SEC1). alg, when not empty, is the JWS
// algorithm the key must sign with: it is given to keys.ParsePEM (a PEM file carries no
// algorithm), and for a JWK that names its own "alg" the two must agree. Empty alg infers
// the algorithm (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA, …).
func LoadSigningKey(path, alg string) (*keys.SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key %s: %w", path, err)
	}
	var k *keys.SigningKey
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		k, err = keys.ParseJWK(t)
		if err == nil && alg != "" && k.Algorithm() != alg {
			return nil, fmt.Errorf("signing key %s is a %s key, but the algorithm asked for is %s", path, k.Algorithm(), alg)
		}
	} else {
		k, err = keys.ParsePEM(data, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// SaveSigningKey writes k to path, which must not exist yet, with permission 0600: as a
// JWK (with kid and alg) when path ends in .json or .jwk, else as PKCS#8 PEM. The file
// holds private key material.
func SaveSigningKey(path string, k *keys.SigningKey) error {
	var data []byte
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".jwk":
		data, err = k.MarshalJWK()
		data = append(data, '\n')
	default:
		data, err = k.MarshalPEM()
	}
	if err != nil {
		return fmt.Errorf("encoding signing key: %w", err)
	}
	return writeSecretFile(path, data)
}

// writeSecretFile creates path (which must not exist) with permission 0600 and writes
// data to it; on failure nothing is left behind.
func writeSecretFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// LoadOrGenerateSigningKey loads the signing key at path (see [LoadSigningKey]) or,
// when the file does not exist, generates a key for alg (empty: [DefaultAlgorithm]) and
// saves it there with permission 0600 (see [SaveSigningKey]). generated reports which
// happened. A key file another process creates at the same moment is loaded, not
// overwritten.
func LoadOrGenerateSigningKey(path, alg string) (key *keys.SigningKey, generated bool, err error) {
	k, err := LoadSigningKey(path, alg)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if alg == "" {
		alg = DefaultAlgorithm
	}
	k, err = keys.Generate(alg)
	if err != nil {
		return nil, false, fmt.Errorf("generating a %s signing key: %w", alg, err)
	}
	if err := SaveSigningKey(path, k); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, err := LoadSigningKey(path, alg)
			return k, false, err
		}
		return nil, false, err
	}
	return k, true, nil
}
