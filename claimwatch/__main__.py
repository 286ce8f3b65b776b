from claimwatch.cli import main

main(prog_name="claimwatch")
