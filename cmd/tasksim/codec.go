package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/model/transcode"
	"github.com/tasksim/tasksim/reports/safefile"
)

func newCodecCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "codec",
		Short: "Encode and decode stepflow.v1 messages (binary protobuf <-> JSON or text)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return badInput(fmt.Errorf("codec needs a subcommand: types, encode or decode (see 'tasksim codec --help')"))
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "types",
		Short: "List the message types the codec knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, t := range transcode.Types() {
				fmt.Fprintln(cmd.OutOrStdout(), t)
			}
			return nil
		},
	})
	cmd.AddCommand(newCodecDirection("decode"), newCodecDirection("encode"))
	return cmd
}

func newCodecDirection(direction string) *cobra.Command {
	var typeName, in, out, format string
	short := "Decode binary protobuf to JSON (canonical protojson) or text"
	if direction == "encode" {
		short = "Encode JSON or text to binary protobuf"
	}
	cmd := &cobra.Command{
		Use:   direction + " --type stepflow.v1.TYPE [--in FILE] [--format json|text]",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if typeName == "" {
				return badInput(fmt.Errorf("codec %s: --type is required; one of: %s", direction, strings.Join(transcode.Types(), ", ")))
			}
			f, err := transcode.ParseFormat(format)
			if err != nil {
				return badInput(fmt.Errorf("codec %s: --format: %w", direction, err))
			}
			if _, err := transcode.New(typeName); err != nil {
				return badInput(fmt.Errorf("codec %s: --type: %w", direction, err))
			}
			data, err := readInput(cmd.InOrStdin(), in)
			if err != nil {
				return badInput(fmt.Errorf("codec %s: %w", direction, err))
			}
			var result []byte
			if direction == "decode" {
				result, err = transcode.Decode(typeName, data, f)
			} else {
				result, err = transcode.Encode(typeName, data, f)
			}
			if err != nil {
				return badInput(fmt.Errorf("codec %s: %s: %w", direction, inputName(in), err))
			}
			if out != "" {
				if err := safefile.WriteFile(out, result); err != nil {
					return fmt.Errorf("codec %s: write --out: %w", direction, err)
				}
				return nil
			}
			_, err = cmd.OutOrStdout().Write(result)
			return err
		},
	}
	cmd.Flags().StringVar(&typeName, "type", "", "message type, e.g. stepflow.v1.TaskAssignment (see 'tasksim codec types')")
	cmd.Flags().StringVar(&in, "in", "", "input file (default: standard input)")
	cmd.Flags().StringVar(&out, "out", "", "output file (default: standard output)")
	fmtHelp := "output format: json or text"
	if direction == "encode" {
		fmtHelp = "input format: json or text"
	}
	cmd.Flags().StringVar(&format, "format", "json", fmtHelp)
	return cmd
}

func readInput(stdin io.Reader, path string) ([]byte, error) {
	if path == "" || path == "-" {
		return transcode.ReadInput(stdin, "standard input")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--in: %w", err)
	}
	defer f.Close()
	return transcode.ReadInput(f, "--in "+path)
}

func inputName(path string) string {
	if path == "" || path == "-" {
		return "<stdin>"
	}
	return path
}
