package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter"
)

func (a *app) streamCreateStaticCommand() *cobra.Command {
	var (
		conn                      adminConn
		c                         streamConfigFlags
		clientID, profile, status string
		audience                  []string
	)
	cmd := &cobra.Command{
		Use:   "create-static",
		Short: "Create a stream for a receiver that does not manage streams (operator API)",
		Long: `Create a "static" stream on behalf of a receiver client, through the transmitter's
operator API (POST <issuer>/admin/streams, authorized with the admin token). It is for
receivers that never call the stream management API but only take pushed SETs, such as
Okta's "Security Events Providers": the operator configures the transmitter to push to
them. The stream belongs to --client-id, which sees and manages it through the
management API if it ever authenticates.

The stream is created like a receiver's own (events_delivered is the requested types the
transmitter supports; a push endpoint must satisfy the transmitter's push policy), with
these differences: every requested event type must be supported, no verification event
is sent, the stream has no inactivity_timeout (its receiver shows no activity), and the
client's --single-stream limit does not apply. The created configuration is printed.

For Okta: --endpoint-url https://{org}/security/api/v1/security-events, --audience the
org URL, --profile legacy, no --authorization-header (Okta authenticates the SET's
signature), and event types Okta accepts (e.g. session-revoked,
device-compliance-change). Okta finds the transmitter's keys through the well-known URL
<issuer>/.well-known/ssf-configuration.`,
		Example: `  sigshare stream create-static --transmitter https://ssf.example.com --admin-token "$ADMIN_TOKEN" \
      --client-id okta-acme --endpoint-url https://acme.okta.com/security/api/v1/security-events \
      --audience https://acme.okta.com --profile legacy --events session-revoked,device-compliance-change

  sigshare stream create-static --transmitter https://ssf.example.com --client-id siem \
      --endpoint-url https://siem.example.com/ssf --authorization-header "Bearer $PUSH_SECRET" \
      --events credential-change --status paused`,
		Args: noArgs,
	}
	conn.register(cmd)
	c.register(cmd)
	fl := cmd.Flags()
	fl.Lookup("delivery").Usage = "delivery method: push (the default) or poll"
	fl.Lookup("config").Usage = `the request body as JSON ({"client_id": ..., "delivery": {...}, ...}), or @file, or - for stdin (instead of the member flags)`
	fl.StringVar(&clientID, "client-id", "", "the receiver client that owns the stream (required)")
	fl.StringSliceVar(&audience, "audience", nil, `the stream's "aud" values (default: the client id)`)
	fl.StringVar(&profile, "profile", "", "SET profile: final (the default), hybrid or legacy")
	fl.StringVar(&status, "status", "", "initial status: enabled (the default), paused or disabled")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := conn.required(); err != nil {
			return err
		}
		base, err := conn.base()
		if err != nil {
			return err
		}
		var body []byte
		if c.config != "" {
			for _, name := range []string{"client-id", "delivery", "endpoint-url", "authorization-header", "events", "description", "audience", "profile", "status"} {
				if fl.Changed(name) {
					return usagef("--config gives the whole request: drop --%s", name)
				}
			}
			data, err := a.readFileArg(c.config)
			if err != nil {
				return usagef("--config: %v", err)
			}
			var probe map[string]json.RawMessage
			if err := json.Unmarshal(data, &probe); err != nil || probe == nil {
				return usagef("--config is not a JSON object: %v", err)
			}
			body = data
		} else {
			req, err := staticRequest(&c, clientID, audience, profile, status)
			if err != nil {
				return err
			}
			if body, err = json.Marshal(req); err != nil {
				return err
			}
		}
		data, err := conn.post(cmd.Context(), base, "/admin/streams", body, http.StatusCreated, "the transmitter refused the stream")
		if err != nil {
			return err
		}
		var cfg ssf.StreamConfig
		if err := json.Unmarshal(data, &cfg); err == nil {
			fmt.Fprintf(a.stderr, "stream %s created (aud %s); no verification event was sent\n", cfg.StreamID, strings.Join(cfg.Audience, ", "))
		}
		_, err = a.stdout.Write(append(indentJSON(data), '\n'))
		return err
	}
	return cmd
}

// staticRequest builds the request of "stream create-static" from its flags, refusing
// what the transmitter would refuse anyway with a usage error.
func staticRequest(c *streamConfigFlags, clientID string, audience []string, profile, status string) (*transmitter.StaticStreamRequest, error) {
	if clientID == "" {
		return nil, usagef("--client-id is required: the receiver client that owns the stream")
	}
	req := &transmitter.StaticStreamRequest{ClientID: clientID, Description: c.description}
	switch strings.ToLower(c.delivery) {
	case "", "push", ssf.DeliveryPush:
		if c.endpointURL == "" {
			return nil, usagef("--endpoint-url is required: the receiver's push endpoint (or --delivery poll)")
		}
		req.Delivery = &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: c.endpointURL, AuthorizationHeader: c.authorization}
	case "poll", ssf.DeliveryPoll:
		if c.endpointURL != "" || c.authorization != "" {
			return nil, usagef("--endpoint-url and --authorization-header are for push delivery")
		}
		req.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll}
	default:
		return nil, usagef("--delivery %q: want push or poll", c.delivery)
	}
	if len(c.events) == 0 {
		return nil, usagef("--events is required: the event types the receiver takes, comma-separated short names or URIs")
	}
	events, err := newEventNames(ssf.DefaultRegistry()).resolveList(c.events)
	if err != nil {
		return nil, usagef("--events: %v", err)
	}
	if len(events) == 0 {
		return nil, usagef("--events names no event type")
	}
	req.EventsRequested = events
	for _, v := range audience {
		if v = strings.TrimSpace(v); v != "" {
			req.Audience = append(req.Audience, v)
		}
	}
	if _, err := store.ParseProfile(profile); err != nil {
		return nil, usagef("--profile %q: want final, hybrid or legacy", profile)
	}
	req.Profile = strings.ToLower(profile)
	if status != "" && !ssf.Status(status).Valid() {
		return nil, usagef("--status %q: want enabled, paused or disabled", status)
	}
	req.Status = ssf.Status(status)
	return req, nil
}
