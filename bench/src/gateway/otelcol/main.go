// Minimal OpenTelemetry Collector distribution for the Helios gateway peer benchmark
// (bench/src/gateway/suite.ts) and the real-client tests (gateway/src/otlp-grpc/collector.test.ts):
// the OTLP receiver, the nop/debug exporters (nop is the collector's null sink) and the stock `otlp`
// (gRPC) exporter, so a Collector can sit in front of Helios as it does in most deployments. All
// modules come from the Go module proxy; nothing is vendored here.
//
//	bash scripts/otelcol.sh      # builds (cached) into ~/.cache/helios/bin/otelcol, prints the path
//
// The bench finds the binary there, on PATH (otelcol, otelcorecol, otelcol-contrib) or via
// HELIOS_OTELCOL_BIN. go.opentelemetry.io/collector/cmd/otelcorecol itself is not served by the
// proxy (it is not a published module), hence this main package, as the collector builder writes it.
package main

import (
	"log"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/debugexporter"
	"go.opentelemetry.io/collector/exporter/nopexporter"
	"go.opentelemetry.io/collector/exporter/otlpexporter"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/service/telemetry/otelconftelemetry"
)

func components() (otelcol.Factories, error) {
	var err error
	factories := otelcol.Factories{Telemetry: otelconftelemetry.NewFactory()}
	if factories.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory()); err != nil {
		return factories, err
	}
	if factories.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](nopexporter.NewFactory(), debugexporter.NewFactory(), otlpexporter.NewFactory()); err != nil {
		return factories, err
	}
	return factories, nil
}

func main() {
	settings := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "helios-otelcol", Description: "OTLP receiver + nop/debug/otlp exporters", Version: "0.165.0"},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{envprovider.NewFactory(), fileprovider.NewFactory()},
				DefaultScheme:     "env",
			},
		},
	}
	if err := otelcol.NewCommand(settings).Execute(); err != nil {
		log.Fatal(err)
	}
}
