package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/ssf"
)

// streamCmd is what every "sigshare stream" subcommand shares.
type streamCmd struct {
	conn     connFlags
	streamID string
}

func (a *app) streamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Manage streams on a transmitter (the SSF management API)",
		Long: `Call the stream management API of any SSF transmitter (SSF §8) as a receiver:
create, read, list, update (PATCH), replace (PUT) and delete streams, read and change their
status, ask for a verification event, and add or remove subjects. The transmitter is
discovered from --issuer; requests carry --token (or OAuth client credentials). Answers
are printed as JSON.

"stream create-static" is the exception: an operator creates a stream on behalf of a
receiver that never calls the management API (such as Okta), through a sigshare
transmitter's operator API with --transmitter and --admin-token, like "sigshare emit".`,
		Args: noArgs,
	}
	cmd.AddCommand(
		a.streamCreateCommand(),
		a.streamCreateStaticCommand(),
		a.streamGetCommand(),
		a.streamListCommand(),
		a.streamUpdateCommand(),
		a.streamReplaceCommand(),
		a.streamDeleteCommand(),
		a.streamStatusCommand(),
		a.streamVerifyCommand(),
		a.streamSubjectCommand("add-subject"),
		a.streamSubjectCommand("remove-subject"),
	)
	return cmd
}

const streamExampleConn = `--issuer https://ssf.example.com --token "$TOKEN"`

// newStreamCmd returns a subcommand with the connection flags; withID adds --stream-id
// (also accepted as the argument).
func (a *app) newStreamCmd(use, short, long, example string, withID bool, run func(ctx context.Context, s *streamCmd) error) (*cobra.Command, *streamCmd) {
	s := &streamCmd{}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: example,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if withID {
				if len(args) == 1 {
					if s.streamID != "" && s.streamID != args[0] {
						return usagef("the argument %q and --stream-id %q differ", args[0], s.streamID)
					}
					s.streamID = args[0]
				}
			}
			return run(cmd.Context(), s)
		},
	}
	if withID {
		cmd.Args = maxOneArg
		cmd.Flags().StringVar(&s.streamID, "stream-id", "", "the stream's id (or give it as the argument; default: the client's only stream)")
	}
	s.conn.register(cmd)
	return cmd, s
}

// streamConfigFlags build the receiver-supplied members of a stream configuration.
type streamConfigFlags struct {
	delivery, endpointURL, authorization, description, config string
	events                                                    []string
}

func (c *streamConfigFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.delivery, "delivery", "", "delivery method: poll or push")
	fl.StringVar(&c.endpointURL, "endpoint-url", "", "push endpoint URL (push)")
	fl.StringVar(&c.authorization, "authorization-header", "", "Authorization header value the transmitter sends with each push (push)")
	fl.StringSliceVar(&c.events, "events", nil, "event types requested, comma-separated short names or URIs")
	fl.StringVar(&c.description, "description", "", "description of the stream")
	fl.StringVar(&c.config, "config", "", "the request body as JSON, or @file, or - for stdin (instead of the flags above)")
}

// set reports which of the member flags were given.
func (c *streamConfigFlags) set(cmd *cobra.Command) (delivery, events, description bool) {
	fl := cmd.Flags()
	return fl.Changed("delivery") || fl.Changed("endpoint-url") || fl.Changed("authorization-header"),
		fl.Changed("events"), fl.Changed("description")
}

// deliveryValue builds the delivery object of the flags.
func (c *streamConfigFlags) deliveryValue() (*ssf.Delivery, error) {
	d := &ssf.Delivery{EndpointURL: c.endpointURL, AuthorizationHeader: c.authorization}
	switch strings.ToLower(c.delivery) {
	case "poll", ssf.DeliveryPoll:
		d.Method = ssf.DeliveryPoll
		if c.endpointURL != "" || c.authorization != "" {
			return nil, usagef("--endpoint-url and --authorization-header are for push delivery")
		}
	case "push", ssf.DeliveryPush:
		d.Method = ssf.DeliveryPush
		if c.endpointURL == "" {
			return nil, usagef("push delivery needs --endpoint-url")
		}
	case "":
		if c.endpointURL != "" {
			d.Method = ssf.DeliveryPush
		} else {
			return nil, usagef("--delivery is required with --authorization-header")
		}
	default:
		return nil, usagef("--delivery %q: want poll or push", c.delivery)
	}
	return d, nil
}

// readConfig decodes --config into v, reporting whether it was given.
func (a *app) readConfig(c *streamConfigFlags, v any) (bool, error) {
	if c.config == "" {
		return false, nil
	}
	data, err := a.readFileArg(c.config)
	if err != nil {
		return false, usagef("--config: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, usagef("--config: %v", err)
	}
	return true, nil
}

func (a *app) streamCreateCommand() *cobra.Command {
	var c streamConfigFlags
	var cmd *cobra.Command
	cmd, s := a.newStreamCmd("create", "Create a stream",
		`Create a stream (SSF §8.1.1.1). Without --delivery the stream uses poll delivery and the
transmitter assigns its poll endpoint_url. The created configuration is printed.`,
		`  sigshare stream create `+streamExampleConn+` --events session-revoked,credential-change
  sigshare stream create `+streamExampleConn+` --delivery push \
      --endpoint-url https://rcv.example.com/ssf/push --authorization-header "Bearer $PUSH_SECRET"`,
		false, nil)
	c.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var req ssf.StreamConfig
		given, err := a.readConfig(&c, &req)
		if err != nil {
			return err
		}
		if !given {
			if req, err = a.configFromFlags(cmd, &c); err != nil {
				return err
			}
		}
		client, err := a.managementClient(cmd.Context(), &s.conn)
		if err != nil {
			return err
		}
		out, err := client.CreateStream(cmd.Context(), req)
		if err != nil {
			return err
		}
		return writeJSON(a.stdout, out)
	}
	return cmd
}

// configFromFlags builds a stream configuration from the member flags (absent flags
// stay absent).
func (a *app) configFromFlags(cmd *cobra.Command, c *streamConfigFlags) (ssf.StreamConfig, error) {
	var req ssf.StreamConfig
	hasDelivery, hasEvents, _ := c.set(cmd)
	if hasDelivery {
		d, err := c.deliveryValue()
		if err != nil {
			return req, err
		}
		req.Delivery = d
	}
	if hasEvents {
		events, err := newEventNames(ssf.DefaultRegistry()).resolveList(c.events)
		if err != nil {
			return req, usagef("--events: %v", err)
		}
		req.EventsRequested = append([]string{}, events...)
	}
	req.Description = c.description
	return req, nil
}

func (a *app) streamGetCommand() *cobra.Command {
	cmd, _ := a.newStreamCmd("get [STREAM_ID]", "Read a stream's configuration",
		"Read one stream's configuration (SSF §8.1.1.2).",
		"  sigshare stream get "+streamExampleConn+" --stream-id 3F2PQ...", true,
		func(ctx context.Context, s *streamCmd) error {
			client, err := a.streamClient(ctx, s)
			if err != nil {
				return err
			}
			out, err := client.GetStream(ctx, s.streamID)
			if err != nil {
				return err
			}
			return writeJSON(a.stdout, out)
		})
	return cmd
}

func (a *app) streamListCommand() *cobra.Command {
	cmd, _ := a.newStreamCmd("list", "List this receiver's streams",
		"List the configurations of every stream of this receiver client (SSF §8.1.1.2).",
		"  sigshare stream list "+streamExampleConn, false,
		func(ctx context.Context, s *streamCmd) error {
			client, err := a.managementClient(ctx, &s.conn)
			if err != nil {
				return err
			}
			out, err := client.ListStreams(ctx)
			if err != nil {
				return err
			}
			if out == nil {
				out = []ssf.StreamConfig{}
			}
			return writeJSON(a.stdout, out)
		})
	return cmd
}

func (a *app) streamUpdateCommand() *cobra.Command {
	var c streamConfigFlags
	cmd, s := a.newStreamCmd("update [STREAM_ID]", "Change some members of a stream (PATCH)",
		`Change the receiver-supplied members given (SSF §8.1.1.3): --events, --description,
--delivery with --endpoint-url and --authorization-header. Members not given stay as they
are. --config takes the whole PATCH body instead.`,
		"  sigshare stream update "+streamExampleConn+" --stream-id 3F2PQ... --events session-revoked,account-disabled", true, nil)
	c.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := setStreamID(s, args); err != nil {
			return err
		}
		var req ssf.StreamUpdate
		given, err := a.readConfig(&c, &req)
		if err != nil {
			return err
		}
		if !given {
			hasDelivery, hasEvents, hasDescription := c.set(cmd)
			if !hasDelivery && !hasEvents && !hasDescription {
				return usagef("nothing to change: give --events, --description, --delivery/--endpoint-url or --config")
			}
			cfg, err := a.configFromFlags(cmd, &c)
			if err != nil {
				return err
			}
			req.Delivery, req.EventsRequested = cfg.Delivery, cfg.EventsRequested
			if hasDescription {
				req.Description = &c.description
			}
		}
		if s.streamID == "" {
			s.streamID = req.StreamID
		}
		client, err := a.streamClient(cmd.Context(), s)
		if err != nil {
			return err
		}
		if req.StreamID, err = s.configStreamID(req.StreamID); err != nil {
			return err
		}
		out, err := client.UpdateStream(cmd.Context(), req)
		if err != nil {
			return err
		}
		return writeJSON(a.stdout, out)
	}
	return cmd
}

// setStreamID takes the stream id from the argument or --stream-id.
func setStreamID(s *streamCmd, args []string) error {
	if len(args) == 1 {
		if s.streamID != "" && s.streamID != args[0] {
			return usagef("the argument %q and --stream-id %q differ", args[0], s.streamID)
		}
		s.streamID = args[0]
	}
	return nil
}

// streamClient returns the management client of s's connection flags, with s.streamID
// resolved (see resolve).
func (a *app) streamClient(ctx context.Context, s *streamCmd) (*receiver.Client, error) {
	client, err := a.managementClient(ctx, &s.conn)
	if err != nil {
		return nil, err
	}
	if err := s.resolve(ctx, client); err != nil {
		return nil, err
	}
	return client, nil
}

// configStreamID returns the stream_id for a --config whose stream_id is configID: the
// stream named, or a usage error when configID names another.
func (s *streamCmd) configStreamID(configID string) (string, error) {
	if configID != "" && configID != s.streamID {
		return "", usagef("the stream_id of --config (%s) is not the stream named (%s)", configID, s.streamID)
	}
	return s.streamID, nil
}

// resolve fills in the stream id when none was given and the client has exactly one
// stream.
func (s *streamCmd) resolve(ctx context.Context, client *receiver.Client) error {
	if s.streamID != "" {
		return nil
	}
	list, err := client.ListStreams(ctx)
	if err != nil {
		return fmt.Errorf("no stream id given, and listing the streams failed: %w", err)
	}
	switch len(list) {
	case 1:
		s.streamID = list[0].StreamID
		return nil
	case 0:
		return errors.New("this receiver client has no stream (see 'sigshare stream create')")
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.StreamID)
	}
	return usagef("this receiver client has %d streams: say which with --stream-id (%s)", len(list), strings.Join(ids, ", "))
}

func (a *app) streamReplaceCommand() *cobra.Command {
	var c streamConfigFlags
	cmd, s := a.newStreamCmd("replace [STREAM_ID]", "Replace a stream's configuration (PUT)",
		`Replace the receiver-supplied members of a stream (SSF §8.1.1.4): members not given are
deleted (no --delivery means poll). --config takes the whole configuration instead, for
example one printed by "sigshare stream get" and edited.`,
		`  sigshare stream get `+streamExampleConn+` 3F2PQ... > stream.json   # edit it, then:
  sigshare stream replace `+streamExampleConn+` 3F2PQ... --config @stream.json`, true, nil)
	c.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := setStreamID(s, args); err != nil {
			return err
		}
		var req ssf.StreamConfig
		given, err := a.readConfig(&c, &req)
		if err != nil {
			return err
		}
		if !given {
			if req, err = a.configFromFlags(cmd, &c); err != nil {
				return err
			}
		}
		if s.streamID == "" {
			s.streamID = req.StreamID
		}
		client, err := a.streamClient(cmd.Context(), s)
		if err != nil {
			return err
		}
		if req.StreamID, err = s.configStreamID(req.StreamID); err != nil {
			return err
		}
		out, err := client.ReplaceStream(cmd.Context(), req)
		if err != nil {
			return err
		}
		return writeJSON(a.stdout, out)
	}
	return cmd
}

func (a *app) streamDeleteCommand() *cobra.Command {
	cmd, _ := a.newStreamCmd("delete [STREAM_ID]", "Delete a stream",
		"Delete a stream (SSF §8.1.1.5); the transmitter drops its undelivered SETs.",
		"  sigshare stream delete "+streamExampleConn+" --stream-id 3F2PQ...", true,
		func(ctx context.Context, s *streamCmd) error {
			client, err := a.streamClient(ctx, s)
			if err != nil {
				return err
			}
			if err := client.DeleteStream(ctx, s.streamID); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "stream %s deleted\n", s.streamID)
			return nil
		})
	return cmd
}

func (a *app) streamStatusCommand() *cobra.Command {
	var status, reason string
	cmd, s := a.newStreamCmd("status [STREAM_ID]", "Read or change a stream's status",
		`Read a stream's status (SSF §8.1.2.1), or with --set change it to enabled, paused or
disabled (SSF §8.1.2.2). A paused stream holds its events; a disabled one drops them.`,
		`  sigshare stream status `+streamExampleConn+` 3F2PQ...
  sigshare stream status `+streamExampleConn+` 3F2PQ... --set paused --reason "maintenance"`, true, nil)
	cmd.Flags().StringVar(&status, "set", "", "new status: enabled, paused or disabled")
	cmd.Flags().StringVar(&reason, "reason", "", "reason for the new status (with --set)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := setStreamID(s, args); err != nil {
			return err
		}
		if status == "" && reason != "" {
			return usagef("--reason goes with --set")
		}
		if status != "" && !ssf.Status(status).Valid() {
			return usagef("--set %q: want enabled, paused or disabled", status)
		}
		client, err := a.streamClient(cmd.Context(), s)
		if err != nil {
			return err
		}
		var out *ssf.StreamStatus
		if status == "" {
			out, err = client.GetStatus(cmd.Context(), s.streamID)
		} else {
			out, err = client.UpdateStatus(cmd.Context(), ssf.StreamStatus{StreamID: s.streamID, Status: ssf.Status(status), Reason: reason})
		}
		if err != nil {
			return err
		}
		return writeJSON(a.stdout, out)
	}
	return cmd
}

func (a *app) streamVerifyCommand() *cobra.Command {
	var state string
	cmd, s := a.newStreamCmd("verify [STREAM_ID]", "Ask for a verification event",
		`Ask the transmitter to send a verification event on the stream (SSF §8.1.4.2). The event
arrives through the stream's delivery, e.g. in a running "sigshare receiver". Without
--state it carries no state, which every receiver accepts; a receiver refuses a state it
did not ask for itself (invalid_state), so give --state only to a receiver that expects it.`,
		"  sigshare stream verify "+streamExampleConn+" 3F2PQ...", true, nil)
	cmd.Flags().StringVar(&state, "state", "", "the state the verification event must echo (default: none)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := setStreamID(s, args); err != nil {
			return err
		}
		client, err := a.streamClient(cmd.Context(), s)
		if err != nil {
			return err
		}
		if err := client.Verify(cmd.Context(), ssf.VerifyRequest{StreamID: s.streamID, State: state}); err != nil {
			return err
		}
		out := map[string]string{"stream_id": s.streamID}
		if state != "" {
			out["state"] = state
		}
		return writeJSON(a.stdout, out)
	}
	return cmd
}

func (a *app) streamSubjectCommand(op string) *cobra.Command {
	var subj subjectFlags
	var unverified bool
	verb, spec := "Add a subject to", "§8.1.3.2"
	if op == "remove-subject" {
		verb, spec = "Remove a subject from", "§8.1.3.3"
	}
	cmd, s := a.newStreamCmd(op+" [STREAM_ID]", verb+" a stream",
		verb+` a stream (SSF `+spec+`): events about the subjects a stream has (all of
them when the transmitter's default_subjects is ALL, none added when NONE) are delivered on it.`,
		"  sigshare stream "+op+" "+streamExampleConn+" 3F2PQ... --subject-email alice@example.com", true, nil)
	subj.register(cmd, true)
	if op == "add-subject" {
		cmd.Flags().BoolVar(&unverified, "unverified", false, `send "verified": false (the receiver has not verified the subject)`)
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := setStreamID(s, args); err != nil {
			return err
		}
		id, ok, err := subj.build(a)
		if err != nil {
			return err
		}
		if !ok {
			return usagef("a subject is required: --subject JSON or a shortcut such as --subject-email")
		}
		client, err := a.streamClient(cmd.Context(), s)
		if err != nil {
			return err
		}
		if op == "add-subject" {
			req := ssf.AddSubjectRequest{StreamID: s.streamID, Subject: id}
			if unverified {
				f := false
				req.Verified = &f
			}
			err = client.AddSubject(cmd.Context(), req)
		} else {
			err = client.RemoveSubject(cmd.Context(), ssf.RemoveSubjectRequest{StreamID: s.streamID, Subject: id})
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "subject %s %s\n", map[bool]string{true: "added to", false: "removed from"}[op == "add-subject"], "stream "+s.streamID)
		return nil
	}
	return cmd
}
