from scaisend.cli.main import main

main()
