"""The command line: commands, runtime wiring, the service, the demo, settings and logs.
The top floor: it may import every package below it."""
