package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix is the prefix of the environment variables that set flags: --admin-token
// is SIGSHARE_ADMIN_TOKEN.
const envPrefix = "SIGSHARE_"

// app is what every command shares: the standard streams, the environment and the
// logging flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)

	logLevel  string
	logFormat string
}

// usageError is a wrong command line: reported with a hint to --help, exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run executes the command line args and returns the exit status: 0 on success, 1 when
// the command failed, 2 for a wrong command line. Errors are printed as one line on
// stderr, never with a stack trace or a usage dump.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: lookupEnv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	msg := oneLine(err.Error())
	var ue *usageError
	usage := errors.As(err, &ue) || strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "invalid argument") ||
		strings.Contains(msg, "flag needs an argument") || strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "required flag")
	if usage {
		name := "sigshare"
		if cmd != nil {
			name = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "sigshare: %s (see '%s --help')\n", msg, name)
		return 2
	}
	fmt.Fprintf(stderr, "sigshare: %s\n", msg)
	return 1
}

// oneLine joins the lines of a message (errors.Join separates with newlines).
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "sigshare",
		Short: "OpenID Shared Signals (SSF, CAEP, RISC) transmitter, receiver and tools",
		Long: `sigshare is a transmitter, a receiver and a toolbox for the OpenID Shared Signals
Framework (SSF 1.0) and its event profiles CAEP 1.0 and RISC 1.0: security events such as
"session revoked" or "credential changed", sent as signed Security Event Tokens (SETs) from
a transmitter to receivers over HTTPS, by push (RFC 8935) or poll (RFC 8936).

Start with "sigshare demo". Every flag can also be set with an environment variable:
SIGSHARE_ followed by the flag name in capitals with "-" as "_" (--admin-token is
SIGSHARE_ADMIN_TOKEN; a list flag takes a comma-separated value). A flag given on the
command line wins over the environment.`,
		Example: `  sigshare demo
  sigshare transmitter --issuer https://ssf.example.com --tls-cert cert.pem --tls-key key.pem --client app1=s3cret
  SIGSHARE_ADMIN_TOKEN=... sigshare emit --transmitter https://ssf.example.com --type session-revoked --subject-email alice@example.com`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.applyEnv(cmd); err != nil {
				return err
			}
			_, err := a.logger() // checks --log-level and --log-format
			return err
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		a.demoCommand(),
		a.transmitterCommand(),
		a.receiverCommand(),
		a.streamCommand(),
		a.emitCommand(),
		a.tokenCommand(),
		a.keysCommand(),
	)
	return root
}

// applyEnv sets every flag of cmd that the command line did not set from its
// environment variable, SIGSHARE_<NAME> (see envName).
func (a *app) applyEnv(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		v, ok := a.lookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if err := cmd.Flags().Set(f.Name, v); err != nil {
			errs = append(errs, usagef("environment variable %s: %v", envName(f.Name), err))
		}
	})
	return errors.Join(errs...)
}

// envName returns the environment variable of a flag: SIGSHARE_ and the name in capitals
// with "-" as "_".
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// logger returns the logger the logging flags ask for, writing to stderr.
func (a *app) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", a.logFormat)
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// maxOneArg accepts zero or one argument.
func maxOneArg(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usagef("%s takes at most one argument, got %d", cmd.CommandPath(), len(args))
	}
	return nil
}

// readFileArg returns the text of a flag value that may name a file: "@path" reads the
// file, "-" reads stdin, anything else is the value itself.
func (a *app) readFileArg(v string) ([]byte, error) {
	switch {
	case v == "-":
		return io.ReadAll(a.stdin)
	case strings.HasPrefix(v, "@"):
		data, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, err
		}
		return data, nil
	}
	return []byte(v), nil
}
