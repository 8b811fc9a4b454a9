from outplace.cli import main

main()
