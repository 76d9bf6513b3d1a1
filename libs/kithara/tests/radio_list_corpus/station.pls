[playlist]
NumberOfEntries=2
File1=http://a.example/s
Title1=A
File2=b/s
Length2=-1
Version=2
