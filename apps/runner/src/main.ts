console.log("args", process.argv.slice(2));
