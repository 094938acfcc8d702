// Command chartgen regenerates the chart's generated templates; run it from
// the repository root (make manifests does).
package main

import (
	"fmt"
	"os"

	"github.com/wecom-operator/wecom-operator/hack/chartgen"
)

func main() {
	if err := chartgen.Generate(".", "charts/wecom-operator"); err != nil {
		fmt.Fprintln(os.Stderr, "chartgen:", err)
		os.Exit(1)
	}
}
