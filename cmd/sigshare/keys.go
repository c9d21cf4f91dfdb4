package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
)

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create signing keys and print public JWK Sets",
		Args:  noArgs,
	}
	cmd.AddCommand(a.keysGenerateCommand(), a.keysJWKSCommand())
	return cmd
}

func (a *app) keysGenerateCommand() *cobra.Command {
	var alg, out, format string
	var bits int
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Create a signing key",
		Long: `Create a private signing key for SETs and write it to --out (permission 0600; the file
must not exist) or, with --out -, to stdout. The format is PEM (PKCS#8) unless --format jwk
or an --out name ending in .json or .jwk asks for a JWK, which also keeps the kid and the
algorithm. The key id (its RFC 7638 thumbprint) is printed on stderr.`,
		Example: `  sigshare keys generate --out signing-key.pem
  sigshare keys generate --alg ES256 --out signing-key.jwk`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var k *keys.SigningKey
			var err error
			if bits != 0 {
				k, err = keys.GenerateRSA(alg, bits)
			} else {
				k, err = keys.Generate(alg)
			}
			if err != nil {
				return fmt.Errorf("generating a %s key: %w", alg, err)
			}
			switch format {
			case "":
				format = "pem"
				if e := strings.ToLower(filepath.Ext(out)); e == ".json" || e == ".jwk" {
					format = "jwk"
				}
			case "pem", "jwk":
			default:
				return usagef("--format %q: want pem or jwk", format)
			}
			if out == "-" {
				var data []byte
				if format == "jwk" {
					data, err = k.MarshalJWK()
					data = append(data, '\n')
				} else {
					data, err = k.MarshalPEM()
				}
				if err != nil {
					return err
				}
				if _, err := a.stdout.Write(data); err != nil {
					return err
				}
			} else {
				path := out
				if format == "jwk" && !strings.HasSuffix(strings.ToLower(out), ".json") && !strings.HasSuffix(strings.ToLower(out), ".jwk") {
					return usagef("--format jwk: name the file .jwk or .json")
				}
				if err := server.SaveSigningKey(path, k); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stderr, "generated %s key kid=%s\n", k.Algorithm(), k.KeyID())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&alg, "alg", server.DefaultAlgorithm, "algorithm: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA")
	fl.IntVar(&bits, "bits", 0, "RSA key size, 2048 to 4096 (default 2048)")
	fl.StringVar(&out, "out", "-", "file to write the private key to; - for stdout")
	fl.StringVar(&format, "format", "", "pem or jwk (default: from the --out name, else pem)")
	return cmd
}

func (a *app) keysJWKSCommand() *cobra.Command {
	var files []string
	var alg string
	cmd := &cobra.Command{
		Use:   "jwks",
		Short: "Print the public JWK Set of key files",
		Long: `Print the public JWK Set (RFC 7517) of one or more private key files: what a
transmitter publishes at its jwks_uri. The first key is the active one; more --key files
are retired keys still published during a rotation. No private member is printed.`,
		Example: `  sigshare keys jwks --key signing-key.pem
  sigshare keys jwks --key new-key.pem --key old-key.pem > jwks.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return usagef("--key is required: a private key file")
			}
			var all []*keys.SigningKey
			for i, f := range files {
				a := ""
				if i == 0 {
					a = alg
				}
				k, err := server.LoadSigningKey(f, a)
				if err != nil {
					return err
				}
				all = append(all, k)
			}
			sk, err := keys.NewSigningKeys(all[0], all[1:]...)
			if err != nil {
				return err
			}
			data, err := sk.MarshalJWKS()
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(append(indentJSON(data), '\n'))
			return err
		},
	}
	cmd.Flags().StringSliceVar(&files, "key", nil, "private key file, PEM or JWK (repeatable: the first is the active key)")
	cmd.Flags().StringVar(&alg, "alg", "", "algorithm of the first key when it is PEM (default: inferred)")
	return cmd
}
