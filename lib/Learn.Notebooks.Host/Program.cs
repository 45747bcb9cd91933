// The notebook runner's child process: `learn notebooks run` starts one per notebook.
return Learn.Notebooks.Host.KernelHost.Run(args);
