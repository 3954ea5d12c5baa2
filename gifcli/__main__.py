from gifcli.cli import main

main()
