// The notebook runner's child process: `learn notebooks run` starts one per notebook.
return Learn.Notebooks.Execution.NotebookHost.Main(args);
