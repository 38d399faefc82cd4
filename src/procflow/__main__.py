from procflow.cli.main import app

app()
