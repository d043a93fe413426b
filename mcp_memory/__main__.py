from mcp_memory.launcher import main

main()
