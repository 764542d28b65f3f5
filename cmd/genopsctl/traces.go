package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	model "github.com/jaegertracing/jaeger-idl/model/v1"
	"github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	"github.com/spf13/cobra"

	"github.com/genops-mesh/otelcol-genops/internal/jaegerclient"
	"github.com/genops-mesh/otelcol-genops/internal/semconv"
)

// traceSummary is one line of `genopsctl traces`.
type traceSummary struct {
	TraceID    string        `json:"trace_id"`
	Service    string        `json:"service"`
	Operation  string        `json:"operation"`
	Start      time.Time     `json:"start"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
	Spans      int           `json:"spans"`
	Team       string        `json:"team,omitempty"`
	Customer   string        `json:"customer_id,omitempty"`
	Project    string        `json:"project,omitempty"`
	Link       string        `json:"link"`
}

type tracesOptions struct {
	team, customer, project, service string
	minDuration, since               time.Duration
	limit                            int
	jaeger, ui, output               string
	timeout                          time.Duration
}

func newTraces() *cobra.Command {
	var o tracesOptions
	cmd := &cobra.Command{
		Use:   "traces",
		Short: "Find the traces of a team, customer or project in Jaeger",
		Long: `traces asks Jaeger's gRPC query service (api_v2 QueryService.FindTraces)
for the traces whose spans carry the governance attributes the collector
set — genops.team, genops.customer_id, genops.project — and prints, newest
first, each trace's id, root service and operation, duration, team,
customer and a link to it in the Jaeger UI. Without --service every
service Jaeger knows is searched.`,
		Example: `  genopsctl traces --team ml-platform
  genopsctl traces --team ml-platform --customer cust-42 --min-duration 2s --since 30m
  genopsctl traces --project support-bot --service llm -o json --jaeger jaeger-query:16685`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.output != "table" && o.output != "json" {
				return fmt.Errorf("-o %q: use table or json", o.output)
			}
			if o.team == "" && o.customer == "" && o.project == "" {
				return errors.New("give at least one of --team, --customer, --project")
			}
			if o.limit < 1 {
				return fmt.Errorf("--limit %d: must be at least 1", o.limit)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			defer cancel()
			found, err := findTraces(ctx, o)
			if err != nil {
				return err
			}
			return printTraces(cmd.OutOrStdout(), o.output, found)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.team, "team", "", "genops.team of the traces")
	f.StringVar(&o.customer, "customer", "", "genops.customer_id of the traces")
	f.StringVar(&o.project, "project", "", "genops.project of the traces")
	f.StringVar(&o.service, "service", "", "only this service (default: every service)")
	f.DurationVar(&o.minDuration, "min-duration", 0, "only traces at least this long, e.g. 2s")
	f.DurationVar(&o.since, "since", time.Hour, "how far back to search")
	f.IntVar(&o.limit, "limit", 20, "at most this many traces")
	f.StringVar(&o.jaeger, "jaeger", "127.0.0.1:16685", "Jaeger query gRPC address (host:port)")
	f.StringVar(&o.ui, "ui", "http://127.0.0.1:16686", "Jaeger UI base URL for the links")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
	return cmd
}

func findTraces(ctx context.Context, o tracesOptions) ([]traceSummary, error) {
	client, conn, err := jaegerclient.Dial(o.jaeger)
	if err != nil {
		return nil, fmt.Errorf("jaeger %s: %w", o.jaeger, err)
	}
	defer conn.Close()

	services := []string{o.service}
	if o.service == "" {
		r, err := client.GetServices(ctx, &api_v2.GetServicesRequest{})
		if err != nil {
			return nil, fmt.Errorf("jaeger %s: listing services: %w", o.jaeger, err)
		}
		services = r.GetServices()
	}
	tags := map[string]string{}
	for key, v := range map[string]string{semconv.AttrTeam: o.team, semconv.AttrCustomerID: o.customer, semconv.AttrProject: o.project} {
		if v != "" {
			tags[key] = v
		}
	}
	now := time.Now()
	byID := map[model.TraceID][]model.Span{}
	for _, svc := range services {
		stream, err := client.FindTraces(ctx, &api_v2.FindTracesRequest{Query: &api_v2.TraceQueryParameters{
			ServiceName:  svc,
			Tags:         tags,
			StartTimeMin: now.Add(-o.since),
			StartTimeMax: now,
			DurationMin:  o.minDuration,
			SearchDepth:  int32(o.limit),
		}})
		if err != nil {
			return nil, fmt.Errorf("jaeger %s: %w", o.jaeger, err)
		}
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("jaeger %s: service %q: %w", o.jaeger, svc, err)
			}
			for _, s := range chunk.GetSpans() {
				byID[s.TraceID] = append(byID[s.TraceID], s)
			}
		}
	}
	out := make([]traceSummary, 0, len(byID))
	for id, spans := range byID {
		out = append(out, summarize(id, spans, o.ui))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.After(out[j].Start)
		}
		return out[i].TraceID < out[j].TraceID
	})
	if len(out) > o.limit {
		out = out[:o.limit]
	}
	return out, nil
}

// summarize takes a trace's spans (the same span may come once per
// service searched) to its root, extent and governance attributes.
func summarize(id model.TraceID, spans []model.Span, ui string) traceSummary {
	seen := map[model.SpanID]bool{}
	var start, end time.Time
	var root *model.Span
	s := traceSummary{TraceID: id.String()}
	for i := range spans {
		sp := &spans[i]
		if seen[sp.SpanID] {
			continue
		}
		seen[sp.SpanID] = true
		s.Spans++
		if start.IsZero() || sp.StartTime.Before(start) {
			start = sp.StartTime
		}
		if e := sp.StartTime.Add(sp.Duration); e.After(end) {
			end = e
		}
		if sp.ParentSpanID() == 0 && (root == nil || sp.StartTime.Before(root.StartTime)) {
			root = sp
		}
		for _, kv := range sp.Tags {
			switch kv.Key {
			case semconv.AttrTeam:
				s.Team = firstNonEmpty(s.Team, kv.AsString())
			case semconv.AttrCustomerID:
				s.Customer = firstNonEmpty(s.Customer, kv.AsString())
			case semconv.AttrProject:
				s.Project = firstNonEmpty(s.Project, kv.AsString())
			}
		}
	}
	if root == nil && len(spans) > 0 {
		root = &spans[0] // the root is outside the window or not yet stored
	}
	if root != nil {
		s.Operation = root.OperationName
		if root.Process != nil {
			s.Service = root.Process.ServiceName
		}
	}
	s.Start, s.Duration = start, end.Sub(start)
	s.DurationMS = float64(s.Duration) / float64(time.Millisecond)
	s.Link = strings.TrimSuffix(ui, "/") + "/trace/" + s.TraceID
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func printTraces(w io.Writer, format string, found []traceSummary) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(found)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE ID\tSERVICE\tOPERATION\tDURATION\tTEAM\tCUSTOMER\tLINK")
	for _, s := range found {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.TraceID, s.Service, s.Operation,
			s.Duration.Round(time.Millisecond), dash(s.Team), dash(s.Customer), s.Link)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d trace(s)\n", len(found))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
