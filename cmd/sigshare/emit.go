package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// subjectFlags build a subject identifier from a JSON value or one of the shortcuts.
type subjectFlags struct {
	json, email, phone, iss, sub, opaque string
}

func (s *subjectFlags) register(cmd *cobra.Command, required bool) {
	fl := cmd.Flags()
	fl.StringVar(&s.json, "subject", "", `subject identifier as JSON (RFC 9493), e.g. '{"format":"email","email":"alice@example.com"}', or @file`)
	fl.StringVar(&s.email, "subject-email", "", "shortcut: an email subject")
	fl.StringVar(&s.phone, "subject-phone", "", "shortcut: a phone_number subject (E.164, e.g. +12065550100)")
	fl.StringVar(&s.iss, "subject-iss", "", "shortcut: the iss of an iss_sub subject (with --subject-sub)")
	fl.StringVar(&s.sub, "subject-sub", "", "shortcut: the sub of an iss_sub subject (with --subject-iss)")
	fl.StringVar(&s.opaque, "subject-opaque", "", "shortcut: an opaque subject id")
}

// build returns the subject identifier the flags name; ok is false when none was given.
func (s *subjectFlags) build(a *app) (subject.Identifier, bool, error) {
	var forms []string
	var id subject.Identifier
	if s.json != "" {
		forms = append(forms, "--subject")
		data, err := a.readFileArg(s.json)
		if err != nil {
			return nil, false, usagef("--subject: %v", err)
		}
		p, err := subject.Parse(data)
		if err != nil {
			return nil, false, usagef("--subject: %v", err)
		}
		id = p
	}
	if s.email != "" {
		forms = append(forms, "--subject-email")
		id = &subject.Email{Email: s.email}
	}
	if s.phone != "" {
		forms = append(forms, "--subject-phone")
		id = &subject.PhoneNumber{PhoneNumber: s.phone}
	}
	if s.iss != "" || s.sub != "" {
		forms = append(forms, "--subject-iss/--subject-sub")
		if s.iss == "" || s.sub == "" {
			return nil, false, usagef("--subject-iss and --subject-sub go together")
		}
		id = &subject.IssSub{Iss: s.iss, Sub: s.sub}
	}
	if s.opaque != "" {
		forms = append(forms, "--subject-opaque")
		id = &subject.Opaque{ID: s.opaque}
	}
	switch len(forms) {
	case 0:
		return nil, false, nil
	case 1:
	default:
		return nil, false, usagef("give one subject, not %s", strings.Join(forms, " and "))
	}
	if err := id.Validate(); err != nil {
		return nil, false, usagef("%s: %v", forms[0], err)
	}
	return id, true, nil
}

type emitFlags struct {
	conn                    adminConn
	eventType, payload, txn string
	subj                    subjectFlags
}

func (a *app) emitCommand() *cobra.Command {
	var f emitFlags
	cmd := &cobra.Command{
		Use:   "emit",
		Short: "Emit an event through a transmitter's admin API",
		Long: `Emit one security event through the transmitter's operator API
(POST <issuer>/admin/events, authorized with the admin token). The transmitter signs one SET
for every stream that receives the event type and the subject, queues them durably and
answers with the SETs it queued; delivery happens afterwards. An invalid event is refused
with the reason.

CAEP events get "event_timestamp" set to now unless the payload has one.

` + shortNamesHelp(),
		Example: `  sigshare emit --transmitter https://ssf.example.com --admin-token "$ADMIN_TOKEN" \
      --type session-revoked --subject-email alice@example.com

  sigshare emit --transmitter https://ssf.example.com --type credential-change \
      --subject '{"format":"iss_sub","iss":"https://idp.example.com","sub":"u-123"}' \
      --payload '{"credential_type":"password","change_type":"update"}'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runEmit(cmd.Context(), &f) },
	}
	fl := cmd.Flags()
	f.conn.register(cmd)
	fl.StringVar(&f.eventType, "type", "", "event type: a short name (session-revoked) or a type URI (required)")
	fl.StringVar(&f.payload, "payload", "", "event payload as a JSON object, or @file (default {})")
	fl.StringVar(&f.txn, "txn", "", `the SETs' "txn" (default: a fresh value)`)
	f.subj.register(cmd, true)
	return cmd
}

func (a *app) runEmit(ctx context.Context, f *emitFlags) error {
	if err := f.conn.required(); err != nil {
		return err
	}
	if f.eventType == "" {
		return usagef("--type is required: an event type short name or URI")
	}
	base, err := f.conn.base()
	if err != nil {
		return err
	}
	names := newEventNames(ssf.DefaultRegistry())
	typeURI, err := names.resolve(f.eventType)
	if err != nil {
		return usagef("--type: %v", err)
	}
	subj, ok, err := f.subj.build(a)
	if err != nil {
		return err
	}
	if !ok {
		return usagef("a subject is required: --subject JSON or a shortcut such as --subject-email")
	}
	payload := map[string]json.RawMessage{}
	if f.payload != "" {
		data, err := a.readFileArg(f.payload)
		if err != nil {
			return usagef("--payload: %v", err)
		}
		if err := json.Unmarshal(data, &payload); err != nil || payload == nil {
			return usagef("--payload is not a JSON object: %v", err)
		}
	}
	if namespace(typeURI) == "caep" {
		if _, ok := payload["event_timestamp"]; !ok {
			payload["event_timestamp"] = json.RawMessage(fmt.Sprint(time.Now().Unix()))
		}
	}
	subjJSON, err := json.Marshal(subj)
	if err != nil {
		return err
	}
	payloadJSON, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{
		"subject":    json.RawMessage(subjJSON),
		"event_type": typeURI,
		"payload":    json.RawMessage(payloadJSON),
		"txn":        f.txn,
	})
	if err != nil {
		return err
	}
	data, err := f.conn.post(ctx, base, "/admin/events", body, http.StatusOK, "the transmitter refused the event")
	if err != nil {
		return err
	}
	var res struct {
		SETs []json.RawMessage `json:"sets"`
	}
	if json.Unmarshal(data, &res) == nil && len(res.SETs) == 0 {
		fmt.Fprintf(a.stderr, "note: no stream receives %s about this subject; nothing was queued\n", shortName(typeURI))
	}
	_, err = a.stdout.Write(append(indentJSON(data), '\n'))
	return err
}

// baseURL checks a server URL given on the command line and returns it without a
// trailing "/". http is accepted only with insecure.
func baseURL(raw string, insecure bool, flag string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return "", usagef("%s %q is not an absolute https URL", flag, raw)
	}
	if u.Scheme == "http" && !insecure {
		return "", usagef("%s %s is not https: credentials would travel in clear text (add --insecure-http for loopback development)", flag, raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// unwrapURLError drops the *url.Error wrapper (its message repeats the method and URL).
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
