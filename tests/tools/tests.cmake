# The command-line pieces the tools share (tools/cli): pure logic, no device.
target_link_libraries(kv_spec_test PRIVATE tern_cli)
target_link_libraries(cli_parse_test PRIVATE tern_cli)
