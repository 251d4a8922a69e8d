"""Reports that print the README's figures (bench, sizes, quant_error, gen_tables,
run_example) and the demo, the project's main job end to end."""
