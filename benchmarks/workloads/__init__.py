"""The workloads `make bench` measures: each module's `measure(quick)` returns `Result`s, ours beside a
reference measured in the same run (absolute times on a shared machine are noise; the ratio is what is
compared)."""
